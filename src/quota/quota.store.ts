import type { AppliedQuota } from './quota-plan';

/** How much of a quota is used, including the call just counted. */
export interface QuotaUse {
  readonly quota: AppliedQuota;
  readonly used: number;
}

/** What one check-and-count gives: every quota's use, and the first used up, if any. */
export interface QuotaTake {
  readonly uses: readonly QuotaUse[];
  /** Set when a quota was used up: nothing was counted then. */
  readonly refused?: AppliedQuota;
}

/**
 * Where quota counters live, and the DI token for it: memory for one instance, Redis (shared by
 * every replica) when Redis is configured. Counters are named by scope, owner and period, so
 * a new period starts at 0 without anyone resetting anything.
 */
export abstract class QuotaStore {
  /**
   * Counts one call against every quota in `quotas`, or against none when one of them is used
   * up (refusals are not counted). Atomic across replicas: with a quota of N, exactly N calls
   * are counted. Rejects when the store does not answer.
   */
  abstract take(quotas: readonly AppliedQuota[]): Promise<QuotaTake>;

  /** How much of each quota is used, without counting (GET /auth/usage). */
  abstract read(quotas: readonly AppliedQuota[]): Promise<QuotaUse[]>;
}
