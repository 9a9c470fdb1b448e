import type { ThrottlerStorage } from '@nestjs/throttler';

/** What one count returns (the throttler's record; its package does not export the type). */
export type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** A fixed-window counter to count a request in (a rate limit). */
export interface WindowCount {
  readonly key: string;
  /** The window, in ms, opened by the first hit. */
  readonly ttl: number;
  readonly limit: number;
}

/** A counter that refuses once it reaches its limit, and is not counted then (a quota). */
export interface CapCount {
  readonly key: string;
  readonly limit: number;
  /** When the counter may go (epoch ms): the end of its period. */
  readonly expiresAt: number;
}

/** What counting the caps gave: each one's use, and the first used up, if any. */
export interface CapsTally {
  /**
   * Each cap's use, in the order given: with this request when none refused; as found, not
   * counted, when one did.
   */
  readonly used: readonly number[];
  /** The index of the first cap used up; nothing was counted then. */
  readonly refusedAt: number | undefined;
}

/** What one `countCall` gave. */
export interface CallTally {
  /** A record per window counted, in order, up to and including the first past its limit. */
  readonly windows: readonly ThrottlerStorageRecord[];
  /** undefined when there were no caps, or a window refused first (the caps were not touched). */
  readonly caps: CapsTally | undefined;
}

/**
 * Where rate-limit and quota counters live, and the DI token for it: bounded memory for one
 * instance, Redis (shared by every replica) when Redis is configured.
 *
 * Windows are fixed: the first hit on a key opens a window of `ttl` ms, every hit in it counts,
 * and a hit past `limit` is blocked until the window ends (so `blockDuration` is the rest of the
 * window). Caps count up to their limit within their period and refuse after, uncounted. The
 * methods reject when the store cannot answer; the callers decide what the request gets then
 * (RATE_LIMIT_REDIS_FAILURE).
 */
export abstract class RateLimitStore implements ThrottlerStorage {
  /**
   * One request's counts as one atomic step, across replicas (with Redis: one script, one round
   * trip, so every key must share a Cluster hash slot, rate-limit-report.ts `slotOf`): each
   * window in order, stopping at the first past its limit; then, only if none was, every cap is
   * checked and, unless one is used up, every cap is counted.
   */
  abstract countCall(
    windows: readonly WindowCount[],
    caps: readonly CapCount[],
  ): Promise<CallTally>;

  /** How far each cap is used, without counting (GET /auth/usage). */
  abstract readCaps(keys: readonly string[]): Promise<number[]>;

  /**
   * Takes back one count from each cap, for a request counted but then not sent; best effort (a
   * lost give-back leaves the quota one call short).
   */
  abstract uncountCaps(keys: readonly string[]): void;

  /** Resolves when the store answers (readiness). */
  abstract ping(): Promise<void>;

  /** The throttler's contract (the login routes' guards): one window. */
  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const { windows } = await this.countCall([{ key, ttl, limit }], []);
    return windows[0]!;
  }
}

/** The throttler's record for `hits` in a window with `msLeft` to run. */
export function windowRecord(hits: number, msLeft: number, limit: number): ThrottlerStorageRecord {
  const timeToExpire = Math.max(1, Math.ceil(msLeft / 1000));
  const isBlocked = hits > limit;
  return {
    totalHits: hits,
    timeToExpire,
    isBlocked,
    timeToBlockExpire: isBlocked ? timeToExpire : 0,
  };
}
