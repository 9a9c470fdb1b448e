import { BffError } from '../http/error-codes';
import { secondsUntilEnd } from './quota-period';
import type { AppliedQuota } from './quota-plan';

/** The 429 of a used-up quota (docs/contract.md, "Quotas"): Retry-After is the wait until it renews. */
export function quotaExceeded(quota: AppliedQuota, now: Date): BffError {
  const seconds = secondsUntilEnd(quota.period, now);
  return new BffError(
    'QUOTA_EXCEEDED',
    `The ${quota.name} quota is used up`,
    { quota: quota.name, limit: quota.limit, resetAt: quota.period.end.toISOString() },
    { 'Retry-After': String(seconds) },
  );
}
