import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { RateLimitItems } from '../capacity/rate-limit-fields';
import type { AppConfig } from '../config/config.schema';
import type { QuotasConfig } from '../config/quotas';
import { StoreFailurePolicy } from '../rate-limit/store-failure.policy';
import type { Principal } from '../session/principal';
import { quotaExceeded } from './quota-exceeded';
import { addQuotaItems } from './quota-items';
import { hasQuotas, quotasFor } from './quota-plan';
import { QuotaStore, type QuotaUse } from './quota.store';

/** A call the quota step can count: signed in, collecting RateLimit items. */
type Quotable = RateLimitItems & {
  readonly user: { readonly principal: Principal; readonly team?: string };
};

/**
 * The quotas of the proxied path (docs/capacity.md, "Quotas"): after the rate limit, every call
 * about to be forwarded counts once against each quota of its user and their team. A store that
 * does not answer follows RATE_LIMIT_REDIS_FAILURE, like the rate limit.
 */
@Injectable()
export class ProxyQuota {
  private readonly config: QuotasConfig;
  /** No quota configured: the check costs nothing. */
  readonly enabled: boolean;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(QuotaStore) private readonly store: QuotaStore,
    @Inject(StoreFailurePolicy) private readonly failure: StoreFailurePolicy,
  ) {
    this.config = config.get('quotas', { infer: true });
    this.enabled = hasQuotas(this.config);
  }

  /** Step of the proxied path, after the rate limit: counts the signed-in call's quotas. */
  readonly countCall = <C extends Quotable>(call: C): C | Promise<C> => {
    if (!this.enabled) return call;
    return this.count(call, call.user.principal, call.user.team).then(() => call);
  };

  /** Counts one call; throws QUOTA_EXCEEDED past a quota, or the 503 of a closed store failure. */
  async count(into: RateLimitItems, principal: Principal, team: string | undefined): Promise<void> {
    if (!this.enabled) return;
    const now = new Date();
    const quotas = quotasFor(this.config, principal, team, now);
    if (quotas.length === 0) return;
    let take;
    try {
      take = await this.store.take(quotas);
    } catch (err) {
      this.failure.onStoreError(err);
      return;
    }
    addQuotaItems(into, take.uses, now);
    if (take.refused !== undefined) throw quotaExceeded(take.refused, now);
  }

  /** The quotas of `principal` and how much of each is used (GET /auth/usage). */
  async state(principal: Principal, team: string | undefined): Promise<QuotaUse[]> {
    const quotas = quotasFor(this.config, principal, team, new Date());
    return quotas.length === 0 ? [] : this.store.read(quotas);
  }

  /** The month usage is reported in: the quota month (`monthStartDay`). */
  get monthStartDay(): number {
    return this.config.monthStartDay;
  }
}
