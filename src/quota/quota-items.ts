import {
  addRateLimit,
  rateItem,
  ratePolicy,
  type RateLimitItems,
  type RateLimitPolicy,
} from '../capacity/rate-limit-fields';
import { periodSeconds, secondsUntilEnd } from './quota-period';
import type { QuotaUse } from './quota-plan';

/**
 * Policies made so far, by name, quota and window: a month's window changes with the month, so
 * the few combinations that occur are made once each and kept (serialised once, not per call).
 */
const policies = new Map<string, RateLimitPolicy>();

function policyOf(use: QuotaUse): RateLimitPolicy {
  const w = periodSeconds(use.quota.period);
  const id = `${use.quota.name};${use.quota.limit};${w}`;
  let policy = policies.get(id);
  if (policy === undefined) {
    policy = ratePolicy(use.quota.name, use.quota.limit, w);
    policies.set(id, policy);
  }
  return policy;
}

/**
 * The RateLimit items of a call's quotas (docs/capacity.md, "RateLimit fields"): `q` the quota,
 * `w` the period in seconds, `r` what is left, `t` the seconds until it renews.
 */
export function addQuotaItems(into: RateLimitItems, uses: readonly QuotaUse[], now: Date): void {
  for (const use of uses) {
    addRateLimit(
      into,
      rateItem(policyOf(use), use.quota.limit - use.used, secondsUntilEnd(use.quota.period, now)),
    );
  }
}
