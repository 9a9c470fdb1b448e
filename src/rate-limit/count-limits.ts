import type { RateLimitItem, RateLimitItems, RateLimitPolicy } from '../capacity/rate-limit-fields';
import { rateLimited } from './rate-limited';
import { counterKey, isTighter, itemOf } from './rate-limit-report';
import type { CapCount, CapsTally, RateLimitStore, WindowCount } from './rate-limit.store';
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

/** What rides in the last store step of a count: the call's slot, and its caps (quotas). */
export interface CountExtras {
  /** The hash slot every counter of the count shares (rate-limit-report.ts `slotOf`). */
  readonly slot: string;
  readonly caps: readonly CapCount[];
}

/** Windows ready to count in one store step, with the limits they belong to. */
interface Batch<Q> {
  readonly limits: CountedLimit<Q>[];
  readonly windows: WindowCount[];
}

/**
 * Counts `request` in each of `limits`, in order, in `store`: the one loop of the login guards
 * and the proxied path. Limits whose trackers are at hand go to the store together, one step
 * (one round trip with Redis); a tracker that must be waited for is asked only once the limits
 * before it are counted (so a login's address counts before its body is read). The `extras`'
 * caps ride in the last step and are counted only if every limit passed. Each limit's
 * `RateLimit` item goes to `into.rateLimits` as soon as it is counted, refused or not (the
 * tightest, for limits of one policy).
 * Throws the 429 at the first limit past its count, so a refused request spends nothing
 * further; a store that does not answer goes to `failure` (503, or the step is skipped).
 * Resolves with the caps' tally, undefined when none were counted.
 */
export async function countLimits<Q>(
  store: RateLimitStore,
  failure: StoreFailurePolicy,
  limits: readonly CountedLimit<Q>[],
  request: Q,
  into: RateLimitItems,
  extras?: CountExtras,
): Promise<CapsTally | undefined> {
  let batch: Batch<Q> = { limits: [], windows: [] };
  for (const limit of limits) {
    const found = limit.trackerOf(request);
    let tracker: string;
    // A tracker at hand costs no microtask.
    if (typeof found === 'string') tracker = found;
    else {
      await countBatch(store, failure, batch, [], into);
      batch = { limits: [], windows: [] };
      tracker = await found;
    }
    if (tracker === '') continue;
    batch.limits.push(limit);
    batch.windows.push({
      key: counterKey(limit.name, tracker, extras?.slot),
      ttl: limit.ttl,
      limit: limit.limit,
    });
  }
  return countBatch(store, failure, batch, extras?.caps ?? [], into);
}

async function countBatch<Q>(
  store: RateLimitStore,
  failure: StoreFailurePolicy,
  batch: Batch<Q>,
  caps: readonly CapCount[],
  into: RateLimitItems,
): Promise<CapsTally | undefined> {
  if (batch.windows.length === 0 && caps.length === 0) return undefined;
  let tally;
  try {
    tally = await store.countCall(batch.windows, caps);
  } catch (err) {
    failure.onStoreError(err);
    return undefined;
  }
  for (let i = 0; i < tally.windows.length; i++) {
    const record = tally.windows[i]!;
    const limit = batch.limits[i]!;
    keepTightest(into, itemOf(limit.policy, limit.limit, record), record.isBlocked);
    if (record.isBlocked) throw rateLimited(record.timeToBlockExpire);
  }
  return tally.caps;
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
