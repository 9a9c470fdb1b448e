import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';
import { rateItem, type RateLimitItem, type RateLimitPolicy } from '../capacity/rate-limit-fields';
import type { ThrottlerStorageRecord } from './rate-limit.store';

/** What a counter says of `policy` after counting a request. */
export function itemOf(
  policy: RateLimitPolicy,
  limit: number,
  record: ThrottlerStorageRecord,
): RateLimitItem {
  return rateItem(
    policy,
    // A counter whose limit is above the policy's (the login safety net) says no more than it.
    Math.min(policy.q, limit - record.totalHits),
    record.isBlocked ? record.timeToBlockExpire : record.timeToExpire,
  );
}

/** Whether `next` describes the request better than `prev`: blocked, fewer left, or later reset. */
export function isTighter(
  prev: RateLimitItem | undefined,
  next: RateLimitItem,
  blocked: boolean,
): boolean {
  return prev === undefined || blocked || next.r < prev.r || (next.r === prev.r && next.t > prev.t);
}

/** Hashed trackers, remembered: the same few users call many times a minute. */
const hashedTrackers = new LRUCache<string, string>({ max: 10_000 });

/** A counter per limit and tracker; trackers (user ids, addresses) are stored hashed. */
export function counterKey(limitName: string, tracker: string): string {
  let hashed = hashedTrackers.get(tracker);
  if (hashed === undefined) {
    hashed = createHash('sha256').update(tracker).digest('base64url');
    hashedTrackers.set(tracker, hashed);
  }
  return `${limitName}:${hashed}`;
}
