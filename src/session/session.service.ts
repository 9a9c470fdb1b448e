import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Request, Response } from 'express';
import type { SessionData } from 'express-session';
import type { AppConfig } from '../config/config.schema';
import type { SessionEndReason, SignInMethod } from './session-kinds';
import { sessionCookiePolicy, type SessionCookiePolicy } from './cookie-policy';
import { SessionEvents } from './session-events';
import { SessionHandles } from './session-handle';
import { SessionStore } from './session-store';
import { UserSessions } from './user-sessions.service';
import { principalOf } from './principal';
import { liveUser, type SessionUser, type SignedInUser } from './session-user';
import { BffError } from '../http/error-codes';
import { requestIdOf } from '../http/request-id';

/** Starts, reads and ends sessions; the routes never touch express-session directly. */
@Injectable()
export class SessionService {
  private readonly logger = new Logger('Sessions');
  private warnedInsecure = false;
  private readonly idleMs: number;
  private readonly absoluteMs: number;
  private readonly cookie: SessionCookiePolicy;
  private readonly handles: SessionHandles;
  private readonly maxPerUser: number;
  private readonly production: boolean;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(SessionStore) private readonly store: SessionStore,
    @Inject(SessionEvents) private readonly events: SessionEvents,
    @Inject(UserSessions) private readonly userSessions: UserSessions,
  ) {
    const settings = config.get('session', { infer: true });
    this.idleMs = settings.idleTimeoutSeconds * 1000;
    this.absoluteMs = settings.absoluteTimeoutSeconds * 1000;
    this.cookie = sessionCookiePolicy(settings);
    this.handles = new SessionHandles(settings.secrets);
    this.maxPerUser = settings.maxPerUser;
    this.production = config.get('appEnv', { infer: true }) === 'production';
  }

  /**
   * A fresh session for `user`: a new id (no fixation), the old one gone from the store. The
   * sign-in request's User-Agent is kept for the session list. A user already holding
   * SESSION_MAX_PER_USER sessions loses the oldest first.
   *
   * An OIDC sign-in of the user the browser is already signed in as (one of several tabs'
   * sign-ins completing after another) gets a new id too, but leaves the earlier session alone
   * (docs/contract.md, Sessions: "Several tabs"): requests the other tab still has in flight with
   * it keep working, and it idles out or is ended from the session list like any other.
   */
  async start(
    req: Request,
    profile: SessionUser,
    method: SignInMethod,
    extra: Partial<SessionData> = {},
  ): Promise<void> {
    this.refuseIfCookieWithheld(req);
    const session = this.sessionOf(req);
    const oldSid = req.sessionID;
    const user: SignedInUser = { ...profile, principal: principalOf(method, profile.id) };
    if (method === 'oidc' && this.currentUser(req)?.principal === user.principal) {
      (this.store as SessionStore & { generate(req: Request): void }).generate(req);
    } else {
      // Someone else's session, or none: gone, so the browser holds only the new user's.
      const replaced = session.user ? { ...session } : undefined;
      await new Promise<void>((resolve, reject) =>
        session.regenerate((err: unknown) => (err ? reject(toError(err)) : resolve())),
      );
      if (replaced)
        this.events.ended(replaced, 'logout', requestIdOf(req), this.handles.of(oldSid));
    }
    await this.userSessions.makeRoom(user.principal, this.maxPerUser, requestIdOf(req));
    Object.assign(req.session, extra, {
      user,
      createdAt: Date.now(),
      userAgent: req.headers['user-agent'] ?? null,
    });
    await new Promise<void>((resolve, reject) =>
      req.session.save((err: unknown) => (err ? reject(toError(err)) : resolve())),
    ).catch(async (err: unknown) => {
      // Not stored (a full memory store, a store down): no cookie may name it.
      await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
      throw err;
    });
    this.events.started(user.id, method, requestIdOf(req));
  }

  /**
   * express-session sets no Secure cookie on a request that did not come over https: a session
   * started there would be one the browser never holds. The sign-in is refused instead
   * (docs/contract.md, Sessions: "Plain http"), and the operator told once what to change, in
   * words that fit the environment: production refuses COOKIE_SECURE=false.
   */
  private refuseIfCookieWithheld(req: Request): void {
    if (!this.cookie.options.secure || req.secure) return;
    if (!this.warnedInsecure) {
      this.warnedInsecure = true;
      this.logger.warn(
        { requestId: requestIdOf(req) },
        'A sign-in arrived over plain http with COOKIE_SECURE=true and was refused: the Secure session cookie needs https. ' +
          (this.production
            ? 'Put a TLS-terminating proxy in front and set TRUST_PROXY so that its X-Forwarded-Proto: https is believed; on a laptop, see docs/configuration.md, "Production-like on a laptop".'
            : 'Behind a TLS-terminating proxy set TRUST_PROXY; for plain http on localhost set COOKIE_SECURE=false.'),
      );
    }
    throw new BffError(
      'BAD_REQUEST',
      'Sign-in needs https: the session cookie is Secure and this request came over plain http',
    );
  }

  /** Destroys the session server-side (a replayed cookie finds nothing) and expires the cookie. */
  async end(req: Request, res: Response, reason: SessionEndReason): Promise<void> {
    const session = this.sessionOf(req);
    const ended = session.user ? { ...session } : undefined;
    const sid = req.sessionID;
    await new Promise<void>((resolve, reject) =>
      session.destroy((err: unknown) => (err ? reject(toError(err)) : resolve())),
    );
    res.clearCookie(this.cookie.name, this.cookie.options);
    if (ended) this.events.ended(ended, reason, requestIdOf(req), this.handles.of(sid));
  }

  /** Expires the session cookie in the browser (the session itself is already gone). */
  clearCookie(res: Response): void {
    res.clearCookie(this.cookie.name, this.cookie.options);
  }

  /** The id of the request's session (the cookie's), for marking it in the session list. */
  sessionIdOf(req: Request): string | undefined {
    return req.session ? req.sessionID : undefined;
  }

  /** The signed-in user, unless there is none or the absolute timeout has passed. */
  currentUser(req: Request): SignedInUser | undefined {
    return liveUser(req.session, this.absoluteMs, Date.now());
  }

  /** When the session ends if unused from now on: the idle or the absolute deadline. */
  expiresAt(req: Request): Date | undefined {
    if (!this.currentUser(req)) return undefined;
    const absolute = (req.session.createdAt as number) + this.absoluteMs;
    // A store that restarts the idle clock lazily knows better than "idle timeout from now".
    const idle = this.store.idleDeadline(req.session) ?? Date.now() + this.idleMs;
    return new Date(Math.min(idle, absolute));
  }

  private sessionOf(req: Request): Request['session'] {
    // Only routes under the session middleware may start or end a session.
    if (!req.session) throw new Error('no session middleware on this route');
    return req.session;
  }
}

const toError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));
