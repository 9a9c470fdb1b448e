import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session from 'express-session';
import type { AppConfig } from '../config/config.schema';
import { sessionCookiePolicy } from './cookie-policy';
import { SessionStore } from './session-store';

/** express-session, configured once; mounted only on the routes that use a session. */
@Injectable()
export class SessionMiddleware implements NestMiddleware {
  private readonly handler: RequestHandler;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(SessionStore) store: SessionStore,
  ) {
    const settings = config.get('session', { infer: true });
    const cookie = sessionCookiePolicy(settings);
    this.handler = session({
      store,
      name: cookie.name,
      // The first secret signs, every one verifies: rotation without logging everyone out.
      secret: settings.secrets,
      resave: false,
      saveUninitialized: false,
      // The idle timeout lives in the store (touched as requests come in), not in the cookie.
      rolling: false,
      // SessionService.end destroys the session itself and reports a failure; 'destroy' would
      // delete it a second time as the response ends, where a failure can only abort the reply.
      unset: 'keep',
      // `proxy` stays unset: express-session then trusts `req.secure`, which follows the
      // app's own `trust proxy` (TRUST_PROXY), so both read X-Forwarded-Proto alike.
      cookie: cookie.options,
    });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    void this.handler(req, res, next);
  }
}
