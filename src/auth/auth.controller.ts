import { Controller, Get, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { SessionService } from '../session/session.service';
import { OidcClient } from './oidc/oidc-client.service';
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
  constructor(
    @Inject(SessionService) private readonly sessions: SessionService,
    @Inject(OidcClient) private readonly oidc: OidcClient,
  ) {}

  @Get('me')
  @UseGuards(SessionGuard)
  me(@Req() req: Request): MeResponse {
    // SessionGuard let the request through, so both are set.
    const user = req.user as Express.User;
    const expiresAt = this.sessions.expiresAt(req) as Date;
    return { user: publicUser(user), session: { expiresAt: expiresAt.toISOString() } };
  }

  /**
   * Answers 200 with or without a session: the outcome (signed out) is the same. After an OIDC
   * login, `logoutUrl` is the provider's end-session URL, for the browser to sign out there too.
   */
  @Post('logout')
  @HttpCode(200)
  @UseGuards(RequestOriginGuard)
  async logout(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ logoutUrl: string | null }> {
    const idToken = req.session?.idToken;
    await this.sessions.end(req, res);
    return { logoutUrl: idToken === undefined ? null : await this.oidc.endSessionUrl(idToken) };
  }
}
