import { Controller, HttpCode, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { urlencoded, type Request, type Response } from 'express';
import type { AppConfig } from '../../config/config.schema';
import { parseBodyWithin } from '../../http/body-idle';
import { BffError } from '../../http/error-codes';
import { requestIdOf } from '../../http/request-id';
import { Public, SkipOriginCheck } from '../../http/route-declarations';
import { principalOf } from '../../session/principal';
import { UserSessions } from '../../session/user-sessions.service';
import { JtiReplay } from './jti-replay';
import { LogoutTokenError, verifyLogoutToken } from './logout-token';
import { OidcClient, type OidcSettings } from './oidc-client.service';

/** A logout token is a few hundred bytes; anything near this is not one. */
const parseForm = urlencoded({ extended: false, limit: '64kb' });

/**
 * `POST /auth/backchannel-logout`: the provider tells the BFF that a user's provider session
 * ended (OpenID Connect Back-Channel Logout 1.0). Server to server, so no session, origin or
 * X-CSRF check: the signed logout token is the proof. A valid token ends, on every replica, the
 * sessions started from that provider session (`sid`), or all of the OIDC user's (`sub` alone;
 * never a local user's with that name).
 */
@Controller('auth')
export class BackchannelLogoutController {
  private readonly logger = new Logger('BackchannelLogout');
  private readonly longestSessionMs: number;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(OidcClient) private readonly client: OidcClient,
    @Inject(JtiReplay) private readonly replay: JtiReplay,
    @Inject(UserSessions) private readonly sessions: UserSessions,
  ) {
    this.longestSessionMs = config.get('session', { infer: true }).absoluteTimeoutSeconds * 1000;
  }

  @Post('backchannel-logout')
  @Public()
  @SkipOriginCheck()
  @HttpCode(200)
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    const token = await logoutTokenOf(req, res);
    const settings = this.client.settings as OidcSettings;
    const issuer = (await this.client.configuration()).serverMetadata().issuer;
    let verified;
    try {
      verified = await verifyLogoutToken(token, {
        issuer,
        clientId: settings.clientId,
        keys: await this.client.signingKeys(),
        replay: this.replay,
        longestSessionMs: this.longestSessionMs,
      });
    } catch (err) {
      if (!(err instanceof LogoutTokenError)) throw err;
      this.logger.warn({ requestId: requestIdOf(req) }, err.message);
      throw new BffError('BAD_REQUEST', 'Invalid logout token');
    }
    const { target } = verified;
    const requestId = requestIdOf(req);
    // A failure here (503) leaves the jti unrecorded, so the provider's retry still works.
    const ended =
      target.sid !== undefined
        ? await this.sessions.endProviderSession(target.sid, 'back-channel', requestId)
        : await this.sessions.endAll(principalOf('oidc', target.sub), 'back-channel', requestId);
    await this.replay.record(issuer, verified.jti, verified.rememberUntil);
    this.logger.log({ requestId, ended }, 'back-channel logout');
    // No body: the provider reads only the status (and Cache-Control: no-store, set on /auth).
    res.setHeader('Content-Length', '0');
  }
}

/** The form body's `logout_token`; 400 BAD_REQUEST when there is none, 408 when it stalls. */
async function logoutTokenOf(req: Request, res: Response): Promise<string> {
  const parsed = await parseBodyWithin(parseForm, req, res).then(
    () => true,
    (err: unknown) => {
      if (err instanceof BffError) throw err;
      return false;
    },
  );
  const token = (req.body as Record<string, unknown> | undefined)?.logout_token;
  if (!parsed || typeof token !== 'string' || token === '') {
    throw new BffError('BAD_REQUEST', 'Expected a form body with logout_token');
  }
  return token;
}
