import { Controller, Get, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { SessionService } from '../session/session.service';
import { publicUser, type PublicUser } from './public-user';
import { RequestOriginGuard } from './request-origin.guard';
import { SessionGuard } from './session.guard';

interface MeResponse {
  user: PublicUser;
  session: { expiresAt: string };
}

/** The session routes every login method shares: who am I, and log out. */
@Controller('auth')
export class AuthController {
  constructor(@Inject(SessionService) private readonly sessions: SessionService) {}

  @Get('me')
  @UseGuards(SessionGuard)
  me(@Req() req: Request): MeResponse {
    // SessionGuard let the request through, so both are set.
    const user = req.user as Express.User;
    const expiresAt = this.sessions.expiresAt(req) as Date;
    return { user: publicUser(user), session: { expiresAt: expiresAt.toISOString() } };
  }

  /** Answers 200 with or without a session: the outcome (signed out) is the same. */
  @Post('logout')
  @HttpCode(200)
  @UseGuards(RequestOriginGuard)
  async logout(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ logoutUrl: string | null }> {
    await this.sessions.end(req, res);
    return { logoutUrl: null };
  }
}
