import type { SessionData } from 'express-session';
import { LRUCache } from 'lru-cache';
import { SessionStore } from './session-store';

export interface MemorySessionStoreOptions {
  /** Most sessions held; the least recently used one goes first. */
  max: number;
  /** Idle lifetime: an entry not written or touched for this long is gone. */
  ttlMs: number;
  /** Clock for the TTL; tests pass a fake one. */
  perf?: { now(): number };
}

type Callback = (err?: unknown) => void;

/**
 * A bounded in-process store (express-session's MemoryStore never evicts). Entries expire
 * lazily when read, so there is no timer per session; values are kept as JSON so a request
 * never shares objects with the store.
 */
export class MemorySessionStore extends SessionStore {
  private readonly cache: LRUCache<string, string>;

  constructor(options: MemorySessionStoreOptions) {
    super();
    this.cache = new LRUCache<string, string>({
      max: options.max,
      ttl: options.ttlMs,
      ttlAutopurge: false,
      // Read the clock on every check: the default 1 ms cache arms a timer per read.
      ttlResolution: 0,
      ...(options.perf ? { perf: options.perf } : {}),
    });
  }

  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    callback(null, this.read(sid));
  }

  lookup(sid: string): Promise<SessionData | null> {
    return Promise.resolve(this.read(sid));
  }

  keepAlive(sid: string): void {
    this.cache.has(sid, { updateAgeOnHas: true });
  }

  override set(sid: string, session: SessionData, callback?: Callback): void {
    // A loaded session that is gone (logged out, expired) stays gone.
    if (this.loadedFrom(session) === undefined || this.cache.has(sid)) {
      this.cache.set(sid, JSON.stringify(session));
    }
    callback?.();
  }

  override destroy(sid: string, callback?: Callback): void {
    this.cache.delete(sid);
    callback?.();
  }

  /** Restarts the idle clock of a live session without rewriting it. */
  override touch(sid: string, _session: SessionData, callback?: () => void): void {
    this.cache.has(sid, { updateAgeOnHas: true });
    callback?.();
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  private read(sid: string): SessionData | null {
    const raw = this.cache.get(sid);
    return raw === undefined ? null : (JSON.parse(raw) as SessionData);
  }
}
