import { CanActivate, Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import { rateLimited } from './rate-limited';
import { RateLimitStore } from './rate-limit.store';
import { StoreFailurePolicy } from './store-failure.policy';

/**
 * The organisation's budget towards Gather, GATHER_UPSTREAM_RATE_LIMIT requests per second
 * across all replicas (one shared counter in the store); off when unset. Runs after the user
 * limit, so a user's rejected requests do not spend it. Exhausted: 429 with Retry-After 1.
 */
@Injectable()
export class UpstreamBudgetGuard implements CanActivate {
  private readonly perSecond: number | undefined;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(RateLimitStore) private readonly store: RateLimitStore,
    @Inject(StoreFailurePolicy) private readonly failure: StoreFailurePolicy,
  ) {
    this.perSecond = config.get('rateLimit', { infer: true }).upstreamPerSecond;
  }

  async canActivate(): Promise<boolean> {
    if (this.perSecond === undefined) return true;
    let blocked: boolean;
    try {
      blocked = (await this.store.increment('upstream', 1000, this.perSecond)).isBlocked;
    } catch (err) {
      this.failure.onStoreError(err);
      return true;
    }
    if (blocked) throw rateLimited(1);
    return true;
  }
}
