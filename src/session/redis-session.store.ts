import { Logger, type LoggerService } from '@nestjs/common';
import type { SessionData } from 'express-session';
import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';
import { BffError } from '../http/error-codes';
import { withDeadline } from '../http/deadline';
import { REDIS_COMMAND_TIMEOUT_MS, redisTimedOut, type RedisClient } from '../redis/redis-client';
import type { Principal } from './principal';
import type { KnownUser } from './session-user';
import { IndexedSession, SessionStore } from './session-store';
import { isRecord } from '../http/is-record';

export const SESSION_KEY_PREFIX = 'gbff:sess:';
/**
 * A principal's sessions: `gbff:usess:<SHA-256 of the principal>` (session/principal.ts), a sorted
 * set (see RedisSessionStore).
 */
export const USER_INDEX_PREFIX = 'gbff:usess:';
/** The sessions of one provider session: `gbff:psess:<SHA-256 of its sid>`. */
export const PROVIDER_INDEX_PREFIX = 'gbff:psess:';

const hashed = (value: string): string => createHash('sha256').update(value).digest('hex');

export interface RedisSessionStoreOptions {
  /** Idle lifetime: a session neither written nor touched for this long is gone. */
  idleMs: number;
  /** Absolute lifetime from `createdAt`; no key outlives it. */
  absoluteMs: number;
  prefix?: string;
  logger?: LoggerService;
}

type Callback = (err?: unknown) => void;

/**
 * When the idle clock restarts lazily, how far it must move: a hundredth of the idle timeout, at
 * most 5 s. A session may end that much early; a busy one costs one small write per interval.
 */
const REFRESH_FRACTION = 100;
const MAX_REFRESH_MS = 5000;

/** Sessions a replica remembers (about 150 bytes each); others are read in full. */
const KNOWN_SESSIONS = 10_000;

/** What a replica knows of a session from its own reads and touches. */
interface Known {
  /** A lower bound of the key's expiry (epoch ms); 0 when the key had none. */
  expiresAt: number;
  user: KnownUser | undefined;
}

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
 * The key's expiry (epoch ms) as read with a session's data, on the data itself: a symbol, so
 * never written back. Not a WeakMap: V8's young-generation collector keeps a long-lived
 * WeakMap's entries alive, so every request's session would outlive it.
 */
const EXPIRES_AT = Symbol('expiresAt');
type Read = SessionData & { [EXPIRES_AT]?: number };

/**
 * Sessions shared by every replica: one JSON value per session under `gbff:sess:<id>`, whose
 * Redis TTL is the idle timeout (capped at the absolute one). Written with SET only at login and
 * when a route changes the session; an unchanged session restarts its idle clock with PEXPIRE,
 * and only once the clock would move by REFRESH_FRACTION's interval, so a busy session costs one
 * small write per interval rather than one per request (it may therefore idle out up to that
 * much early; `idleDeadline` says exactly when). Every call has a deadline, and any failure is a
 * 503 SERVICE_UNAVAILABLE: never a request let through without its session.
 *
 *
 * Each session is also listed under its user (and its provider session, after an OIDC sign-in)
 * in a sorted set of session ids scored by the session's absolute deadline. A set is trimmed of
 * members past their deadline on every sign-in, and its own TTL is the absolute timeout from the
 * latest sign-in it took, which no member outlives: nothing in it is kept longer than the
 * sessions it names. A session that idled out early is dropped from its set when next listed;
 * one that is ended on purpose leaves its sets at once.
 *
 * connect-redis is not used: it rewrites with EXPIRE on every request, in whole seconds, and
 * its `set` would write back a session that was destroyed meanwhile.
 */
export class RedisSessionStore extends SessionStore {
  private readonly prefix: string;
  private readonly refreshMs: number;
  private readonly logger: LoggerService;
  private failing = false;
  /**
   * Each recently read session's user and a lower bound of its key's expiry. A session key's
   * expiry never moves earlier (every write and touch sets the idle timeout from its own time,
   * capped by the same absolute deadline; only deletion ends it sooner), so while the bound says
   * no touch can be due, the proxied path's read skips PTTL: one command instead of two on
   * nearly every call. The user lets that call's count go out beside the read
   * (docs/architecture.md, "Stores and replicas").
   */
  private readonly known = new LRUCache<string, Known>({ max: KNOWN_SESSIONS });

  constructor(
    private readonly client: RedisClient,
    private readonly options: RedisSessionStoreOptions,
  ) {
    super();
    this.prefix = options.prefix ?? SESSION_KEY_PREFIX;
    this.refreshMs = Math.min(options.idleMs / REFRESH_FRACTION, MAX_REFRESH_MS);
    this.logger = options.logger ?? new Logger('SessionStore');
  }

  knownUser(sid: string): KnownUser | undefined {
    return this.known.peek(sid)?.user;
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
    void this.end(sid).then(
      () => callback?.(),
      (err: unknown) => callback?.(err),
    );
  }

  async end(sid: string): Promise<SessionData | null> {
    this.known.delete(sid);
    const raw = await this.run(() => this.client.getDel(this.key(sid)));
    const data = raw === null ? null : parse(raw);
    if (data) {
      const indexes = this.indexKeys(data);
      if (indexes.length > 0) {
        await this.run(() => Promise.all(indexes.map((key) => this.client.zRem(key, sid))));
      }
    }
    return data;
  }

  async update(sid: string, data: SessionData): Promise<void> {
    const value = JSON.stringify(data);
    await this.run(() =>
      this.client.set(this.key(sid), value, { condition: 'XX', expiration: 'KEEPTTL' }),
    );
  }

  async sessionsOf(principal: Principal): Promise<IndexedSession[]> {
    const key = USER_INDEX_PREFIX + hashed(principal);
    const now = Date.now();
    const sids = await this.run(() => this.client.zRangeByScore(key, now, '+inf'));
    const found = await Promise.all(
      sids.map(async (sid) => ({ sid, read: await this.readWithTtl(sid, now) })),
    );
    const gone = found.filter((f) => f.read === null).map((f) => f.sid);
    // Idled out without anyone ending them: leave the index now.
    if (gone.length > 0) await this.run(() => this.client.zRem(key, gone));
    return found.flatMap(({ sid, read }) => (read ? [{ sid, ...read }] : []));
  }

  async sidsOfProviderSession(providerSid: string): Promise<string[]> {
    const key = PROVIDER_INDEX_PREFIX + hashed(providerSid);
    return this.run(() => this.client.zRangeByScore(key, Date.now(), '+inf'));
  }

  async lookup(sid: string): Promise<SessionData | null> {
    const known = this.known.get(sid);
    // Due (or unknown): the full read, whose PTTL decides the touch. Otherwise the real expiry,
    // which is at least the bound, would not make a touch due either.
    if (
      known === undefined ||
      Date.now() + this.options.idleMs - known.expiresAt >= this.refreshMs
    ) {
      return this.read(sid);
    }
    const raw = await this.run(() => this.client.get(this.key(sid)));
    const session = raw === null ? null : parse(raw);
    if (session) (session as Read)[EXPIRES_AT] = known.expiresAt;
    else this.known.delete(sid);
    return session;
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
    const sentAt = Date.now();
    void this.run(() => this.client.pExpire(this.key(sid), plan.ttl)).then(
      (extended) => {
        if (extended === 1) {
          this.known.set(sid, {
            expiresAt: sentAt + plan.ttl,
            user: session.user,
          });
        }
        callback?.();
      },
      () => callback?.(),
    );
  }

  override idleDeadline(session: SessionData): number {
    return this.plan(session, Date.now()).deadline;
  }

  private key(sid: string): string {
    return this.prefix + sid;
  }

  /** The sorted sets that list `data`'s session. */
  private indexKeys(data: SessionData): string[] {
    const keys: string[] = [];
    if (data.user) keys.push(USER_INDEX_PREFIX + hashed(data.user.principal));
    if (data.providerSid !== undefined) keys.push(PROVIDER_INDEX_PREFIX + hashed(data.providerSid));
    return keys;
  }

  /** A session's data and when it was last used, judged from its key's remaining idle time. */
  private async readWithTtl(
    sid: string,
    now: number,
  ): Promise<{ data: SessionData; lastSeenAt: number } | null> {
    const key = this.key(sid);
    const [raw, pttl] = await this.run(() =>
      Promise.all([this.client.get(key), this.client.pTTL(key)]),
    );
    const data = raw === null || pttl === -2 ? null : parse(raw);
    if (!data) return null;
    const createdAt = typeof data.createdAt === 'number' ? data.createdAt : now;
    const lastSeenAt = Math.min(now, Math.max(createdAt, now + pttl - this.options.idleMs));
    return { data, lastSeenAt };
  }

  private async read(sid: string): Promise<SessionData | null> {
    const key = this.key(sid);
    const sentAt = Date.now();
    const [raw, pttl] = await this.run(() =>
      Promise.all([this.client.get(key), this.client.pTTL(key)]),
    );
    // -2: expired between the two commands.
    const session = raw === null || pttl === -2 ? null : parse(raw);
    if (!session) {
      this.known.delete(sid);
      return null;
    }
    // -1 (a key without a TTL) counts as due, so the next touch gives it one.
    const expiresAt = pttl < 0 ? 0 : sentAt + pttl;
    (session as Read)[EXPIRES_AT] = expiresAt;
    this.known.set(sid, { expiresAt, user: session.user });
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
    const loaded = this.loadedFrom(session) !== undefined;
    const now = Date.now();
    // A new session is indexed before it exists, so no live session is ever missing from its
    // sets; a set entry whose session was never written is dropped when next listed.
    const index = loaded ? [] : this.indexKeys(session);
    const deadline =
      typeof session.createdAt === 'number'
        ? session.createdAt + this.options.absoluteMs
        : now + ttl;
    await this.run(() =>
      Promise.all([
        ...index.flatMap((setKey) => [
          this.client.zRemRangeByScore(setKey, '-inf', now),
          this.client.zAdd(setKey, { score: deadline, value: sid }),
          this.client.pExpire(setKey, this.options.absoluteMs),
        ]),
        this.client.set(key, value, {
          expiration: { type: 'PX', value: ttl },
          // XX: a loaded session is only updated; once logged out or expired it stays gone.
          ...(loaded ? { condition: 'XX' as const } : {}),
        }),
      ]),
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
    const current = (data as Read)[EXPIRES_AT];
    const extend = ttl > 0 && (current === undefined || now + ttl - current >= this.refreshMs);
    return { extend, ttl, deadline: extend || current === undefined ? now + ttl : current };
  }

  /** Runs one store call under the deadline; any failure becomes the 503 and is logged once. */
  private async run<T>(call: () => Promise<T>): Promise<T> {
    try {
      const result = await withDeadline(call(), REDIS_COMMAND_TIMEOUT_MS, redisTimedOut);
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
