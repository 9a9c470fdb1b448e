import type { RateLimitItem, RateLimitItems, RateLimitPolicy } from '../capacity/rate-limit-fields';
import { rateLimited } from './rate-limited';
import { counterKey, isTighter, itemOf } from './rate-limit-report';
import type { RateLimitStore, ThrottlerStorageRecord } from './rate-limit.store';
import type { StoreFailurePolicy } from './store-failure.policy';

/**
 * One limit a request may count in. No block duration: the store's windows are fixed, so a
 * request past the limit is refused until its window ends (rate-limit.store.ts).
 */
export interface CountedLimit<Q> {
  /** Names the limit's counters (docs/contract.md, "Rate limits"). */
  readonly name: string;
  readonly limit: number;
  /** The window, in ms. */
  readonly ttl: number;
  /** What the answer's `RateLimit` fields report it as; limits of one policy, the tightest. */
  readonly policy: RateLimitPolicy;
  /** Whom `request` counts as under this limit; '' when the limit does not apply to it. */
  trackerOf(request: Q): string | Promise<string>;
}

/**
 * Counts `request` in each of `limits`, in order, in `store`: the one loop of the login guards
 * and the proxied path. Each tracker is asked only once the limits before it are counted (so a
 * login's address counts before its body is read). Each limit's `RateLimit` item goes to
 * `into.rateLimits` as soon as it is counted, refused or not (the tightest, for limits of one
 * policy).
 * Throws the 429 at the first limit past its count, so a refused request spends nothing
 * further; a store that does not answer goes to `failure` (503, or the limit is skipped).
 */
export async function countLimits<Q>(
  store: RateLimitStore,
  failure: StoreFailurePolicy,
  limits: readonly CountedLimit<Q>[],
  request: Q,
  into: RateLimitItems,
): Promise<void> {
  for (const limit of limits) {
    const found = limit.trackerOf(request);
    // A tracker at hand costs no microtask.
    const tracker = typeof found === 'string' ? found : await found;
    if (tracker === '') continue;
    let record: ThrottlerStorageRecord;
    try {
      record = await store.increment(counterKey(limit.name, tracker), limit.ttl, limit.limit);
    } catch (err) {
      failure.onStoreError(err);
      continue;
    }
    keepTightest(into, itemOf(limit.policy, limit.limit, record), record.isBlocked);
    if (record.isBlocked) throw rateLimited(record.timeToBlockExpire);
  }
}

/** Adds `next` to the items, unless one of its policy already describes the request better. */
function keepTightest(into: RateLimitItems, next: RateLimitItem, blocked: boolean): void {
  const items = (into.rateLimits ??= []);
  for (let at = 0; at < items.length; at++) {
    if (items[at]!.policy.name !== next.policy.name) continue;
    if (isTighter(items[at], next, blocked)) items[at] = next;
    return;
  }
  items.push(next);
}
