import type { Request, RequestHandler, Response } from 'express';
import passport from 'passport';
import type { SessionUser } from '../../session/session-user';
import type { OidcFailure, OidcStep, OidcStrategy, OidcSuccessInfo } from './oidc.strategy';

/** How one pass through the strategy ended. */
export type OidcOutcome =
  /** The response is over: the strategy redirected the browser, or the browser went away. */
  | { readonly kind: 'ended' }
  | { readonly kind: 'success'; readonly user: SessionUser; readonly info: OidcSuccessInfo }
  | { readonly kind: 'failed'; readonly failure: OidcFailure };

/**
 * Runs the OIDC strategy through a passport instance of its own (not the global one, and
 * without passport.initialize/session: the session is ours), as a promise a route can await.
 */
export class OidcAuthenticator {
  private readonly passport = new passport.Passport();

  constructor(private readonly strategy: OidcStrategy) {
    this.passport.use(strategy);
  }

  run(req: Request, res: Response, step: OidcStep['step']): Promise<OidcOutcome> {
    return new Promise((resolve, reject) => {
      // Passport ends the response on a redirect without calling back.
      const ended = (): void => resolve({ kind: 'ended' });
      res.once('finish', ended);
      res.once('close', ended);
      const done = (err: Error | null, user: SessionUser | false, info: unknown): void => {
        res.off('finish', ended);
        res.off('close', ended);
        if (err) reject(err);
        else if (user) resolve({ kind: 'success', user, info: info as OidcSuccessInfo });
        else resolve({ kind: 'failed', failure: info as OidcFailure });
      };
      const options: OidcStep & passport.AuthenticateOptions = { step, res, session: false };
      const handler = this.passport.authenticate(
        this.strategy.name,
        options,
        done,
      ) as RequestHandler;
      void handler(req, res, (err?: unknown) =>
        reject((err as Error) ?? new Error('OIDC strategy passed')),
      );
    });
  }
}
