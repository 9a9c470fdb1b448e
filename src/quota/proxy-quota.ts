import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { RateLimitItems } from '../capacity/rate-limit-fields';
import type { AppConfig } from '../config/config.schema';
import type { QuotasConfig } from '../config/quotas';
import { BffError } from '../http/error-codes';
import { Metrics } from '../observability/metrics.service';
import { CountRider, type Ride } from '../rate-limit/count-rider';
import { counterKey, slotOf, teamSlot } from '../rate-limit/rate-limit-report';
import { RateLimitStore, type CapCount, type CapsTally } from '../rate-limit/rate-limit.store';
import type { Principal } from '../session/principal';
import { quotaExceeded } from './quota-exceeded';
import { addQuotaItems } from './quota-items';
import {
  hasQuotas,
  quotasFor,
  teamMonthQuota,
  type AppliedQuota,
  type QuotaUse,
} from './quota-plan';

/** The counter of `quota`, on the slot of the call it counts (docs/capacity.md, "At scale"). */
function capOf(quota: AppliedQuota, slot: string): CapCount {
  return {
    key: `${counterKey(quota.name, quota.owner, slot)}:${quota.period.id}`,
    limit: quota.limit,
    expiresAt: quota.period.end.getTime(),
  };
}

/**
 * The quotas of the proxied path (docs/capacity.md, "Quotas"): every call about to be forwarded
 * counts once against each quota of its user and their team. They ride in the rate limit's
 * count (rate-limit/count-rider.ts): one store step, counted only when every limit passed, and
 * a store that does not answer follows RATE_LIMIT_REDIS_FAILURE like the rate limit.
 */
@Injectable()
export class ProxyQuota extends CountRider {
  private readonly config: QuotasConfig;
  /** No quota configured: nothing rides, the count costs nothing more. */
  readonly enabled: boolean;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(RateLimitStore) private readonly store: RateLimitStore,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {
    super();
    this.config = config.get('quotas', { infer: true });
    this.enabled = hasQuotas(this.config);
  }

  rideOf(principal: Principal, team: string | undefined): Ride | undefined {
    if (!this.enabled) return undefined;
    const now = new Date();
    const quotas = quotasFor(this.config, principal, team, now);
    if (quotas.length === 0) return undefined;
    const slot = slotOf(principal, team);
    return {
      caps: quotas.map((quota) => capOf(quota, slot)),
      settle: (into: RateLimitItems, tally: CapsTally): void => {
        const { refusedAt } = tally;
        const uses = quotas.map((quota, i): QuotaUse => ({ quota, used: tally.used[i]! }));
        addQuotaItems(into, refusedAt === undefined ? uses : [uses[refusedAt]!], now);
        if (refusedAt !== undefined) {
          this.metrics.quotaRefused(quotas[refusedAt]!.name);
          throw quotaExceeded(quotas[refusedAt]!, now);
        }
      },
    };
  }

  /**
   * The quotas of `principal` and how much of each is used (GET /auth/usage); a store that does
   * not answer is a 503 that names it, like the usage store's.
   */
  async state(principal: Principal, team: string | undefined): Promise<QuotaUse[]> {
    const quotas = quotasFor(this.config, principal, team, new Date());
    if (quotas.length === 0) return [];
    const slot = slotOf(principal, team);
    let used: number[];
    try {
      used = await this.store.readCaps(quotas.map((quota) => capOf(quota, slot).key));
    } catch {
      throw new BffError('SERVICE_UNAVAILABLE', 'The quota store is unavailable');
    }
    return quotas.map((quota, i) => ({ quota, used: used[i]! }));
  }

  /**
   * How much of each team's monthly quota is used (the metrics' team gauge,
   * usage/team-quota-metrics.ts); teams without a monthly quota are left out.
   */
  async teamMonthUses(teams: readonly string[]): Promise<QuotaUse[]> {
    const now = new Date();
    const quotas = teams.flatMap((team) => teamMonthQuota(this.config, team, now) ?? []);
    if (quotas.length === 0) return [];
    // A team's counters are on the team's slot, whichever member's call counted them.
    const keys = quotas.map((quota) => capOf(quota, teamSlot(quota.owner)).key);
    const used = await this.store.readCaps(keys);
    return quotas.map((quota, i) => ({ quota, used: used[i]! }));
  }

  /** The month usage is reported in: the quota month (`monthStartDay`). */
  get monthStartDay(): number {
    return this.config.monthStartDay;
  }
}
