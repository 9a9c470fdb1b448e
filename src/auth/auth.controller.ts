import {
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { BffError } from '../http/error-codes';
import { SessionService } from '../session/session.service';
import { requestIdOf } from '../http/request-id';
import { Public } from '../http/route-declarations';
import { principalKind, type Principal } from '../session/principal';
import { UserSessions, type SessionView } from '../session/user-sessions.service';
import { OidcClient } from './oidc/oidc-client.service';
import { publicUser, type PublicUser } from './public-user';

interface MeResponse {
  user: PublicUser;
  session: { expiresAt: string };
}

/**
 * The session routes every login method shares: who am I, my sessions, and log out. All but
 * logout need a session (the global SessionGuard); the two that change state get their origin
 * and X-CSRF checks from AuthModule's middleware, ahead of the session.
 */
@Controller('auth')
export class AuthController {
  constructor(
    @Inject(SessionService) private readonly sessions: SessionService,
    @Inject(UserSessions) private readonly userSessions: UserSessions,
    @Inject(OidcClient) private readonly oidc: OidcClient,
  ) {}

  @Get('me')
  me(@Req() req: Request): MeResponse {
    // SessionGuard let the request through, so both are set.
    const user = req.user as Express.User;
    const expiresAt = this.sessions.expiresAt(req) as Date;
    return { user: publicUser(user), session: { expiresAt: expiresAt.toISOString() } };
  }

  /** The caller's live sessions, on every replica; `current` marks the one asking. */
  @Get('sessions')
  async list(
    @Req() req: Request,
  ): Promise<{ sessions: Array<SessionView & { current: boolean }> }> {
    const current = this.sessions.sessionIdOf(req);
    const sessions = await this.userSessions.list(this.principalOf(req));
    return {
      sessions: sessions.map(({ sid, id, createdAt, lastSeenAt, userAgent }) => ({
        id,
        createdAt,
        lastSeenAt,
        current: sid === current,
        userAgent,
      })),
    };
  }

  /** Ends one of the caller's sessions: 204, or 404 NOT_FOUND when `id` is not one of theirs. */
  @Delete('sessions/:id')
  @HttpCode(204)
  async revoke(@Req() req: Request, @Param('id') id: string): Promise<void> {
    const principal = this.principalOf(req);
    if (!(await this.userSessions.endByHandle(principal, id, 'revoked', requestIdOf(req)))) {
      throw new BffError('NOT_FOUND', 'No such session');
    }
  }

  /**
   * Answers 200 with or without a session: the outcome (signed out) is the same. After an OIDC
   * login, `logoutUrl` is the provider's end-session URL, for the browser to sign out there too.
   * With `everywhere=true`, every session of the user ends, on every replica.
   */
  @Post('logout')
  @Public()
  @HttpCode(200)
  async logout(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Query('everywhere') everywhere: unknown,
  ): Promise<{ logoutUrl: string | null }> {
    const signedInWith = req.session?.user && principalKind(req.session.user.principal);
    const user = this.sessions.currentUser(req);
    const all = everywhere === 'true' && user !== undefined;
    await this.sessions.end(req, res, all ? 'everywhere' : 'logout');
    if (all) await this.userSessions.endAll(user.principal, 'everywhere', requestIdOf(req));
    return { logoutUrl: signedInWith === 'oidc' ? await this.oidc.endSessionUrl() : null };
  }

  /** Whom the session belongs to, local or OIDC (SessionGuard has let the request through). */
  private principalOf(req: Request): Principal {
    const user = this.sessions.currentUser(req);
    if (!user) throw new BffError('UNAUTHORIZED');
    return user.principal;
  }
}
