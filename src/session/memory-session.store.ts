import type { SessionData } from 'express-session';
import { LRUCache } from 'lru-cache';
import type { Principal } from './principal';
import { BffError } from '../http/error-codes';
import { SessionIndex } from './session-index';
import { IndexedSession, SessionStore } from './session-store';

export interface MemorySessionStoreOptions {
  /** Most sessions held; the least recently used one goes first. */
  max: number;
  /** Idle lifetime: an entry not written or touched for this long is gone. */
  ttlMs: number;
  /** Clock for the TTL; tests pass a fake one. */
  perf?: { now(): number };
  /** Told when a session is found to have idled out (for the sessions-ended metric). */
  onIdleExpiry?: () => void;
}

type Callback = (err?: unknown) => void;

/**
 * A session as held: its JSON, which every express-session read parses into a copy of its own,
 * and the frozen parse the proxied path shares once it has read the session (one parse per
 * write rather than per request).
 */
interface Held {
  readonly json: string;
  frozen?: SessionData;
}

/** `value` and everything in it, frozen. */
function deepFrozen<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFrozen(inner);
    Object.freeze(value);
  }
  return value;
}

/** Restarts an entry's idle clock when asked whether it exists. */
const TOUCH = { updateAgeOnHas: true };

/**
 * A bounded in-process store (express-session's MemoryStore never evicts). When full, a new
 * session is refused (503) rather than pushing out someone's live one; entries expire
 * lazily when read, so there is no timer per session; values are kept as JSON so a request
 * never shares objects it could change with the store (the proxied path's are frozen). The per-user and per-provider-session indexes hold
 * exactly the sessions the cache holds: an entry leaves them whenever the cache lets it go
 * (logout, eviction, expiry), so they are bounded by the same `max`.
 */
export class MemorySessionStore extends SessionStore {
  private readonly cache: LRUCache<string, Held>;
  private readonly byUser = new SessionIndex();
  private readonly byProviderSid = new SessionIndex();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: MemorySessionStoreOptions) {
    super();
    this.ttlMs = options.ttlMs;
    const perf = options.perf ?? performance;
    this.now = () => perf.now();
    this.cache = new LRUCache<string, Held>({
      max: options.max,
      ttl: options.ttlMs,
      ttlAutopurge: false,
      // Read the clock on every check: the default 1 ms cache arms a timer per read.
      ttlResolution: 0,
      ...(options.perf ? { perf: options.perf } : {}),
      dispose: (value, sid, reason) => {
        // 'set' replaces a session's value under the same id: it stays indexed.
        if (reason === 'set') return;
        this.unindex(sid, value.json);
        if (reason === 'expire') options.onIdleExpiry?.();
      },
    });
  }

  /** Answers at once: nothing to overlap with. */
  knownUser(): undefined {
    return undefined;
  }

  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    callback(null, this.read(sid));
  }

  lookup(sid: string): Promise<SessionData | null> {
    const held = this.cache.get(sid);
    if (held === undefined) return Promise.resolve(null);
    held.frozen ??= deepFrozen(JSON.parse(held.json) as SessionData);
    return Promise.resolve(held.frozen);
  }

  keepAlive(sid: string): void {
    this.cache.has(sid, TOUCH);
  }

  override set(sid: string, session: SessionData, callback?: Callback): void {
    // A loaded session that is gone (logged out, expired) stays gone.
    const fresh = this.loadedFrom(session) === undefined;
    if (fresh && !this.hasRoomFor(sid)) {
      callback?.(new BffError('SERVICE_UNAVAILABLE', 'Too many sessions'));
      return;
    }
    if (fresh || this.cache.has(sid)) {
      this.cache.set(sid, { json: JSON.stringify(session) });
    }
    if (fresh) {
      if (session.user) this.byUser.add(session.user.principal, sid);
      if (session.providerSid !== undefined) this.byProviderSid.add(session.providerSid, sid);
    }
    callback?.();
  }

  override destroy(sid: string, callback?: Callback): void {
    this.cache.delete(sid);
    callback?.();
  }

  /** Restarts the idle clock of a live session without rewriting it. */
  override touch(sid: string, _session: SessionData, callback?: () => void): void {
    this.cache.has(sid, TOUCH);
    callback?.();
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  sessionsOf(principal: Principal): Promise<IndexedSession[]> {
    const sessions: IndexedSession[] = [];
    for (const sid of this.byUser.members(principal)) {
      // A read drops an idled-out entry, and with it its index entries.
      const data = this.read(sid);
      if (data === null) continue;
      const idleFor = this.ttlMs - this.cache.getRemainingTTL(sid);
      sessions.push({ sid, data, lastSeenAt: Date.now() - Math.max(0, idleFor) });
    }
    return Promise.resolve(sessions);
  }

  sidsOfProviderSession(providerSid: string): Promise<string[]> {
    return Promise.resolve(
      this.byProviderSid.members(providerSid).filter((sid) => this.read(sid) !== null),
    );
  }

  update(sid: string, data: SessionData): Promise<void> {
    if (this.cache.has(sid)) {
      this.cache.set(sid, { json: JSON.stringify(data) }, { noUpdateTTL: true });
    }
    return Promise.resolve();
  }

  end(sid: string): Promise<SessionData | null> {
    const data = this.read(sid);
    this.cache.delete(sid);
    return Promise.resolve(data);
  }

  /**
   * Whether a new session `sid` fits without evicting anyone's live session: a full store first
   * drops what has idled out, then refuses (docs/contract.md, Sessions: "Stores"). Rewriting or
   * touching a session already held never needs room.
   */
  private hasRoomFor(sid: string): boolean {
    if (this.cache.size < this.cache.max || this.cache.has(sid)) return true;
    this.cache.purgeStale();
    return this.cache.size < this.cache.max;
  }

  private unindex(sid: string, value: string): void {
    const { user, providerSid } = JSON.parse(value) as SessionData;
    if (user) this.byUser.remove(user.principal, sid);
    if (providerSid !== undefined) this.byProviderSid.remove(providerSid, sid);
  }

  private read(sid: string): SessionData | null {
    const held = this.cache.get(sid);
    return held === undefined ? null : (JSON.parse(held.json) as SessionData);
  }
}
