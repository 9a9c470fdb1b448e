import { Controller, Get, Inject, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { BffError } from '../../http/error-codes';
import { audit } from '../../audit/audit';
import { Metrics } from '../../observability/metrics.service';
import { SignInRateLimitGuard } from '../../rate-limit/login-rate-limit.guard';
import { ProviderRecheck } from '../../session/provider-recheck';
import { SessionService } from '../../session/session.service';
import { requestIdOf } from '../../http/request-id';
import { Public } from '../../http/route-declarations';
import { OidcAuthenticator } from './oidc-authenticator';

/**
 * The two top-level navigations of an OIDC sign-in, public since they come before the session.
 * No origin or X-CSRF check either (docs/contract.md, "Check order"): the return from the
 * provider is cross-site by nature, and the state and the login transaction cookie are what tie
 * it to the browser that started it.
 */
@Controller('auth')
@Public()
export class OidcController {
  constructor(
    @Inject(OidcAuthenticator) private readonly authenticator: OidcAuthenticator,
    @Inject(SessionService) private readonly sessions: SessionService,
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(ProviderRecheck) private readonly recheck: ProviderRecheck,
  ) {}

  /** `GET /auth/login?returnTo=/path`: 302 to the provider's authorization endpoint. */
  @Get('login')
  @UseGuards(SignInRateLimitGuard)
  async login(@Req() req: Request, @Res() res: Response): Promise<void> {
    const outcome = await this.authenticator.run(req, res, 'login');
    if (outcome.kind !== 'ended') throw new Error(`OIDC login ended as ${outcome.kind}`);
  }

  /**
   * `GET /auth/callback`: completes the sign-in and starts a fresh session, then 302 to the
   * transaction's returnTo. A provider error for this browser's sign-in is a 302 to its
   * returnTo with `signin_error`; every other failure is 401 UNAUTHORIZED. Neither starts a
   * session.
   */
  @Get('callback')
  @UseGuards(SignInRateLimitGuard)
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    const outcome = await this.authenticator.run(req, res, 'callback');
    switch (outcome.kind) {
      case 'success':
        await this.sessions.start(req, outcome.user, 'oidc', {
          ...(outcome.info.providerSid === undefined
            ? {}
            : { providerSid: outcome.info.providerSid }),
          ...(outcome.info.refreshToken === undefined
            ? {}
            : this.recheck.sessionFields(outcome.info.refreshToken)),
        });
        res.redirect(302, outcome.info.returnTo);
        return;
      case 'failed':
        this.metrics.loginFailed('oidc');
        audit('login.failed', { requestId: requestIdOf(req), method: 'oidc' });
        // A page the SPA can show, rather than an error document (docs/contract.md, Sessions).
        if (outcome.failure.redirectTo !== undefined) {
          res.redirect(302, outcome.failure.redirectTo);
          return;
        }
        throw new BffError('UNAUTHORIZED', outcome.failure.message);
      case 'ended':
        // The browser went away before the sign-in completed: nobody to answer.
        return;
    }
  }
}
