import { Logger, type LoggerService } from '@nestjs/common';
import type { SessionData } from 'express-session';
import { BffError } from '../http/error-codes';
import { withDeadline, type RedisClient } from '../redis/redis-client';
import { SessionStore } from './session-store';

export const SESSION_KEY_PREFIX = 'gbff:sess:';

export interface RedisSessionStoreOptions {
  /** Idle lifetime: a session neither written nor touched for this long is gone. */
  idleMs: number;
  /** Absolute lifetime from `createdAt`; no key outlives it. */
  absoluteMs: number;
  prefix?: string;
  logger?: LoggerService;
}

type Callback = (err?: unknown) => void;

/** When the idle clock restarts lazily, how far it must move: a tenth of the idle timeout. */
const REFRESH_FRACTION = 10;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Stored JSON back to session data; anything express-session could not rebuild counts as none. */
function parse(raw: string): SessionData | null {
  try {
    const value: unknown = JSON.parse(raw);
    return isRecord(value) && isRecord(value.cookie) ? (value as unknown as SessionData) : null;
  } catch {
    return null;
  }
}

/**
 * Sessions shared by every replica: one JSON value per session under `gbff:sess:<id>`, whose
 * Redis TTL is the idle timeout (capped at the absolute one). Written with SET only at login and
 * when a route changes the session; an unchanged session restarts its idle clock with PEXPIRE,
 * and only once the clock would move by a tenth of the idle timeout, so a busy session costs one
 * small write per interval rather than one per request (it may therefore idle out up to that
 * much early; `idleDeadline` says exactly when). Every call has a deadline, and any failure is a
 * 503 SERVICE_UNAVAILABLE: never a request let through without its session.
 *
 * connect-redis is not used: it rewrites with EXPIRE on every request, in whole seconds, and
 * its `set` would write back a session that was destroyed meanwhile.
 */
export class RedisSessionStore extends SessionStore {
  /** The key's expiry (epoch ms) as read with each loaded session's data. */
  private readonly expiries = new WeakMap<SessionData, number>();
  private readonly prefix: string;
  private readonly refreshMs: number;
  private readonly logger: LoggerService;
  private failing = false;

  constructor(
    private readonly client: RedisClient,
    private readonly options: RedisSessionStoreOptions,
  ) {
    super();
    this.prefix = options.prefix ?? SESSION_KEY_PREFIX;
    this.refreshMs = options.idleMs / REFRESH_FRACTION;
    this.logger = options.logger ?? new Logger('SessionStore');
  }

  async ping(): Promise<void> {
    await this.run(() => this.client.ping());
  }

  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    void this.read(sid).then(
      (session) => callback(null, session),
      (err: unknown) => callback(err),
    );
  }

  override set(sid: string, session: SessionData, callback?: Callback): void {
    void this.write(sid, session).then(
      () => callback?.(),
      (err: unknown) => callback?.(err),
    );
  }

  override destroy(sid: string, callback?: Callback): void {
    void this.run(() => this.client.del(this.key(sid))).then(
      () => callback?.(),
      (err: unknown) => callback?.(err),
    );
  }

  lookup(sid: string): Promise<SessionData | null> {
    return this.read(sid);
  }

  keepAlive(sid: string, data: SessionData): void {
    this.touch(sid, data);
  }

  override touch(sid: string, session: SessionData, callback?: () => void): void {
    const plan = this.plan(session, Date.now());
    if (!plan.extend) {
      callback?.();
      return;
    }
    // PEXPIRE never creates a key: a session destroyed meanwhile stays destroyed. A failure only
    // leaves the idle clock where it was, so the response already under way is not failed for it.
    void this.run(() => this.client.pExpire(this.key(sid), plan.ttl)).then(
      () => callback?.(),
      () => callback?.(),
    );
  }

  override idleDeadline(session: SessionData): number {
    return this.plan(session, Date.now()).deadline;
  }

  private key(sid: string): string {
    return this.prefix + sid;
  }

  private async read(sid: string): Promise<SessionData | null> {
    const key = this.key(sid);
    const sentAt = Date.now();
    const [raw, pttl] = await this.run(() =>
      Promise.all([this.client.get(key), this.client.pTTL(key)]),
    );
    // -2: expired between the two commands.
    if (raw === null || pttl === -2) return null;
    const session = parse(raw);
    // -1 (a key without a TTL) counts as due, so the next touch gives it one.
    if (session) this.expiries.set(session, pttl < 0 ? 0 : sentAt + pttl);
    return session;
  }

  private async write(sid: string, session: SessionData): Promise<void> {
    const key = this.key(sid);
    const ttl = this.lifetimeMs(session, Date.now());
    if (ttl <= 0) {
      await this.run(() => this.client.del(key));
      return;
    }
    const value = JSON.stringify(session);
    await this.run(() =>
      this.client.set(key, value, {
        expiration: { type: 'PX', value: ttl },
        // XX: a loaded session is only updated; once logged out or expired it stays gone.
        ...(this.loadedFrom(session) ? { condition: 'XX' as const } : {}),
      }),
    );
  }

  /** How long the key should live from `now`: the idle timeout, never past the absolute one. */
  private lifetimeMs(session: SessionData, now: number): number {
    const { createdAt } = session;
    const absoluteLeft =
      typeof createdAt === 'number' ? createdAt + this.options.absoluteMs - now : Infinity;
    return Math.min(this.options.idleMs, absoluteLeft);
  }

  /** Whether a touch now extends the key, by how much, and when the session then ends. */
  private plan(
    session: SessionData,
    now: number,
  ): { extend: boolean; ttl: number; deadline: number } {
    const ttl = this.lifetimeMs(session, now);
    // An express-session object maps to the data it was built from; `lookup`'s data is its own.
    const data = this.loadedFrom(session) ?? session;
    const current = this.expiries.get(data);
    const extend = ttl > 0 && (current === undefined || now + ttl - current >= this.refreshMs);
    return { extend, ttl, deadline: extend || current === undefined ? now + ttl : current };
  }

  /** Runs one store call under the deadline; any failure becomes the 503 and is logged once. */
  private async run<T>(call: () => Promise<T>): Promise<T> {
    try {
      const result = await withDeadline(call());
      if (this.failing) {
        this.failing = false;
        this.logger.log('Session store answering again');
      }
      return result;
    } catch (err) {
      if (!this.failing) {
        this.failing = true;
        const reason = err instanceof Error ? err.message : String(err);
        this.logger.warn(`Session store unavailable: ${reason}`);
      }
      throw new BffError('SERVICE_UNAVAILABLE', 'Sessions are unavailable');
    }
  }
}
