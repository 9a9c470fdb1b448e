import { createHash } from 'node:crypto';
import { rateItem, type RateLimitItem, type RateLimitPolicy } from '../capacity/rate-limit-fields';
import type { Principal } from '../session/principal';
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

/**
 * Hashed trackers, remembered: the same few users call many times a minute, and each call names
 * several counters. A plain map, forgotten whole when full: a lookup costs a fraction of an LRU's,
 * and a hash recomputed now and then costs a microsecond.
 */
const hashedTrackers = new Map<string, string>();
const MAX_HASHED = 10_000;

/** A tracker (user id, address, team) as stored: hashed, never as given. */
function hashed(tracker: string): string {
  let hash = hashedTrackers.get(tracker);
  if (hash === undefined) {
    hash = createHash('sha256').update(tracker).digest('base64url');
    if (hashedTrackers.size >= MAX_HASHED) hashedTrackers.clear();
    hashedTrackers.set(tracker, hash);
  }
  return hash;
}

/**
 * The Redis Cluster hash slot of every counter a proxied call takes, so that its rate limits and
 * quotas are one script on one shard: the team's when the user has one (every member of a team
 * counts in the team's quota), else the user's own (docs/capacity.md, "At scale").
 */
export function slotOf(principal: Principal, team: string | undefined): string {
  return team === undefined ? `u:${hashed(principal)}` : teamSlot(team);
}

/** The hash slot of `team`'s counters, and of every member's. */
export function teamSlot(team: string): string {
  return `t:${hashed(team)}`;
}

/**
 * A counter per limit and tracker, trackers hashed. The hash tag comes first, so no brace in a
 * limit's name can move the key to another slot: `slot` when the counter must share one with a
 * call's other counters, else the tracker's own.
 */
export function counterKey(limitName: string, tracker: string, slot?: string): string {
  const hash = hashed(tracker);
  return slot === undefined ? `{${hash}}:${limitName}` : `{${slot}}:${limitName}:${hash}`;
}
