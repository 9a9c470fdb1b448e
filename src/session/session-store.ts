import type { Request } from 'express';
import { Store, type Session, type SessionData } from 'express-session';
import type { Principal } from './principal';
import type { KnownUser } from './session-user';

/** One live session as the index lists it. */
export interface IndexedSession {
  readonly sid: string;
  readonly data: SessionData;
  /** Epoch ms of its last use, as far as the store knows (a Redis store: within a hundredth of the idle timeout, at most 5 s). */
  readonly lastSeenAt: number;
}

/**
 * The stored data an express-session object was built from, on the object (a symbol: never
 * serialised, and no per-request WeakMap entry; docs/architecture.md, "No per-request state in
 * long-lived maps").
 */
const LOADED_FROM = Symbol('loadedFrom');
type Loaded = SessionData & { [LOADED_FROM]?: SessionData };

/**
 * The session store as the rest of the application sees it, and its DI token: the bounded
 * memory store by default, a shared store (Redis) when one is configured.
 */
export abstract class SessionStore extends Store {
  /**
   * The user `sid` belonged to when this replica last read it, if the store is across the
   * network and remembers: a session's user never changes, so work for that user may run beside
   * the read, which alone decides. undefined for a store that answers at once.
   */
  abstract knownUser(sid: string): KnownUser | undefined;

  /** Resolves when the store answers; rejects otherwise (readiness). */
  abstract ping(): Promise<void>;

  /**
   * The stored data of session `sid`, or null: the proxied path's one read, without building
   * an express-session object. Read-only (the memory store hands every request the same frozen
   * copy). Rejects (503) when the store cannot answer.
   */
  abstract lookup(sid: string): Promise<SessionData | null>;

  /**
   * Restarts the idle clock of `data` (what `lookup` returned for `sid`) when it is due; never
   * creates or rewrites the session, never fails the request that uses it.
   */
  abstract keepAlive(sid: string, data: SessionData): void;

  /** Every live session of `principal`, across replicas where the store is shared. */
  abstract sessionsOf(principal: Principal): Promise<IndexedSession[]>;

  /** The ids of the live sessions started from the provider session `providerSid`. */
  abstract sidsOfProviderSession(providerSid: string): Promise<string[]>;

  /**
   * Rewrites live session `sid` with `data` (the provider re-check's results), keeping its
   * expiry; a session that ended meanwhile stays ended.
   */
  abstract update(sid: string, data: SessionData): Promise<void>;

  /** Deletes session `sid` and its index entries; its data when it existed (for the audit log). */
  abstract end(sid: string): Promise<SessionData | null>;

  /**
   * When the store forgets `session` (one it loaded for this request) if nothing uses it
   * afterwards, in epoch ms; `undefined` when each request restarts the full idle timeout.
   */
  idleDeadline(_session: SessionData): number | undefined {
    return undefined;
  }

  override createSession(req: Request, data: SessionData): Session & SessionData {
    const session: Session & Loaded = super.createSession(req, data);
    session[LOADED_FROM] = data;
    return session;
  }

  /**
   * The stored data `session` was built from, or `undefined` for a session this request
   * generated (a login). A loaded session may only be updated, never written back once gone:
   * a logout on any replica or its expiry while a slow request ran must not be undone.
   */
  protected loadedFrom(session: SessionData): SessionData | undefined {
    return (session as Loaded)[LOADED_FROM];
  }
}
