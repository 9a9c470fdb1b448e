import { LRUCache } from 'lru-cache';
import type { AppliedQuota } from './quota-plan';
import { QuotaStore, type QuotaTake, type QuotaUse } from './quota.store';

/** The counter's name: scope, owner and period (a new period is a new counter). */
export function quotaCounterName(quota: AppliedQuota): string {
  return `${quota.scope}\n${quota.owner}\n${quota.period.kind}\n${quota.period.id}`;
}

/**
 * Quota counters of a single instance. Check-and-count is synchronous, hence atomic within the
 * process. Bounded by entry count like the rate-limit counters: once full, the least recently
 * used counter goes (a user unseen for that long starts again from 0).
 */
export class MemoryQuotaStore extends QuotaStore {
  private readonly counters: LRUCache<string, number>;

  constructor(maxKeys: number) {
    super();
    this.counters = new LRUCache({ max: maxKeys });
  }

  take(quotas: readonly AppliedQuota[]): Promise<QuotaTake> {
    const uses = this.usesOf(quotas);
    const full = uses.find((u) => u.used >= u.quota.limit);
    if (full !== undefined) return Promise.resolve({ uses, refused: full.quota });
    const counted = uses.map(({ quota, used }): QuotaUse => {
      this.counters.set(quotaCounterName(quota), used + 1, {
        ttl: Math.max(1, quota.period.end.getTime() - Date.now()),
      });
      return { quota, used: used + 1 };
    });
    return Promise.resolve({ uses: counted });
  }

  read(quotas: readonly AppliedQuota[]): Promise<QuotaUse[]> {
    return Promise.resolve(this.usesOf(quotas));
  }

  private usesOf(quotas: readonly AppliedQuota[]): QuotaUse[] {
    return quotas.map((quota) => ({
      quota,
      used: this.counters.get(quotaCounterName(quota)) ?? 0,
    }));
  }
}
