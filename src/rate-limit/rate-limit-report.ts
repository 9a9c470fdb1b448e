import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ThrottlerStorageRecord } from './rate-limit.store';

/** What the RateLimit-* headers say: the most restrictive limit a request was counted in. */
export interface RateLimitReport {
  readonly limit: number;
  readonly remaining: number;
  readonly reset: number;
}

export function reportOf(limit: number, record: ThrottlerStorageRecord): RateLimitReport {
  return {
    limit,
    remaining: Math.max(0, limit - record.totalHits),
    reset: record.isBlocked ? record.timeToBlockExpire : record.timeToExpire,
  };
}

/** Whether `next` describes the request better than `prev`: blocked, fewer left, or later reset. */
export function isTighter(
  prev: RateLimitReport | undefined,
  next: RateLimitReport,
  blocked: boolean,
): boolean {
  return (
    prev === undefined ||
    blocked ||
    next.remaining < prev.remaining ||
    (next.remaining === prev.remaining && next.reset > prev.reset)
  );
}

/** The `RateLimit-*` headers that say `report`. */
export function reportHeaders(report: RateLimitReport): Record<string, string> {
  return {
    'RateLimit-Limit': String(report.limit),
    'RateLimit-Remaining': String(report.remaining),
    'RateLimit-Reset': String(report.reset),
  };
}

/** Sets the `RateLimit-*` headers of `report` on a response whose head is not written yet. */
export function writeReport(res: ServerResponse, report: RateLimitReport): void {
  const headers = reportHeaders(report);
  for (const name in headers) res.setHeader(name, headers[name]!);
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
