import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Request, Response } from 'express';
import type { SessionData } from 'express-session';
import type { AppConfig } from '../config/config.schema';
import { sessionCookiePolicy, type SessionCookiePolicy } from './cookie-policy';
import { SessionStore } from './session-store';
import { liveUser, type SessionUser } from './session-user';

/** Starts, reads and ends sessions; the routes never touch express-session directly. */
@Injectable()
export class SessionService {
  private readonly idleMs: number;
  private readonly absoluteMs: number;
  private readonly cookie: SessionCookiePolicy;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(SessionStore) private readonly store: SessionStore,
  ) {
    const settings = config.get('session', { infer: true });
    this.idleMs = settings.idleTimeoutSeconds * 1000;
    this.absoluteMs = settings.absoluteTimeoutSeconds * 1000;
    this.cookie = sessionCookiePolicy(settings);
  }

  /** A fresh session for `user`: a new id (no fixation), the old one gone from the store. */
  async start(req: Request, user: SessionUser, extra: Partial<SessionData> = {}): Promise<void> {
    const session = this.sessionOf(req);
    await new Promise<void>((resolve, reject) =>
      session.regenerate((err: unknown) => (err ? reject(toError(err)) : resolve())),
    );
    Object.assign(req.session, extra, { user, createdAt: Date.now() });
    await new Promise<void>((resolve, reject) =>
      req.session.save((err: unknown) => (err ? reject(toError(err)) : resolve())),
    );
  }

  /** Destroys the session server-side (a replayed cookie finds nothing) and expires the cookie. */
  async end(req: Request, res: Response): Promise<void> {
    const session = this.sessionOf(req);
    await new Promise<void>((resolve, reject) =>
      session.destroy((err: unknown) => (err ? reject(toError(err)) : resolve())),
    );
    res.clearCookie(this.cookie.name, this.cookie.options);
  }

  /** The signed-in user, unless there is none or the absolute timeout has passed. */
  currentUser(req: Request): SessionUser | undefined {
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
