import type { ThrottlerStorage } from '@nestjs/throttler';

/** What one count returns (the throttler's record; its package does not export the type). */
export type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * Where rate-limit counters live, and the DI token for it: bounded memory for one instance,
 * Redis (shared by every replica) when REDIS_URL is set.
 *
 * Both count in fixed windows: the first hit on a key opens a window of `ttl` ms, every hit in
 * it counts, and a hit past `limit` is blocked until the window ends (so `blockDuration` is the
 * rest of the window). `increment` rejects when the store cannot answer; the guards decide what
 * the request gets then (RATE_LIMIT_REDIS_FAILURE).
 */
export abstract class RateLimitStore implements ThrottlerStorage {
  abstract increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord>;

  /** Resolves when the store answers (readiness). */
  abstract ping(): Promise<void>;
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
