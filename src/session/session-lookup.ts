import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { serialize } from 'cookie';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppConfig } from '../config/config.schema';
import { BffError } from '../http/error-codes';
import { Metrics } from '../observability/metrics.service';
import { sessionCookiePolicy } from './cookie-policy';
import { sessionIdReader } from './session-cookie';
import { SessionStore } from './session-store';
import type { KnownUser, SignedInUser } from './session-user';
import { SessionValidity } from './session-validity';

/** What the session check reads of a request; `requestId` names it in a security event. */
export interface SessionRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
}

/** A request whose session cookie is verified. */
export interface SessionCookie {
  readonly sid: string;
  readonly expectedUser: KnownUser | undefined;
}

/**
 * The session check of the proxied path, as two steps: verify the signed cookie, read the store once, restart
 * the idle clock only when the store says it is due, never re-sign or rewrite anything. The
 * login routes set the cookie through express-session; this reads the same cookie and store.
 */
@Injectable()
export class SessionLookup {
  private readonly sessionId: (cookieHeader: string | undefined) => string | undefined;
  /** `Set-Cookie` that expires the cookie, built once. */
  private readonly expiredCookie: string;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(SessionStore) private readonly store: SessionStore,
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(SessionValidity) private readonly validity: SessionValidity,
  ) {
    const settings = config.get('session', { infer: true });
    const cookie = sessionCookiePolicy(settings);
    this.sessionId = sessionIdReader(cookie.name, settings.secrets);
    this.expiredCookie = serialize(cookie.name, '', { ...cookie.options, expires: new Date(0) });
  }

  /**
   * Step: the signed cookie verified (401 UNAUTHORIZED without one), and `expectedUser`,
   * the user this session had when this replica last read it, if it did: a guess for work
   * that may run beside the store read (the rate limit's early count), never a verdict.
   */
  readonly cookie = <C extends SessionRequest>(call: C): C & SessionCookie => {
    const sid = this.sessionId(call.req.headers.cookie);
    if (sid === undefined) throw new BffError('UNAUTHORIZED');
    return Object.assign(call, { sid, expectedUser: this.store.knownUser(sid) });
  };

  /**
   * Step: the signed-in user, by the session policy (session-validity.ts): 401 UNAUTHORIZED
   * without a live session, 503 when the store is down.
   */
  readonly signIn = async <C extends SessionRequest & SessionCookie>(
    call: C,
  ): Promise<C & { readonly user: SignedInUser }> => {
    const { sid } = call;
    const data = await this.store.lookup(sid);
    if (data === null) throw new BffError('UNAUTHORIZED');
    let verdict = this.validity.verdict(sid, data, call.requestId, Date.now());
    if (verdict instanceof Promise) verdict = await verdict;
    if (typeof verdict === 'string') {
      if (verdict === 'absolute') {
        // Removed now rather than left to idle out.
        this.store.destroy(sid, () => undefined);
        this.metrics.sessionEnded('absolute');
      }
      if (verdict !== 'none') call.res.setHeader('Set-Cookie', this.expiredCookie);
      throw new BffError('UNAUTHORIZED');
    }
    this.store.keepAlive(sid, data);
    return Object.assign(call, { user: verdict });
  };
}
