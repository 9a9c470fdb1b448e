import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import { pathPattern } from '../http/path-pattern';
import { rateLimited } from './rate-limited';
import type { Principal } from '../session/principal';
import {
  addRateLimit,
  ratePolicy,
  type RateLimitItems,
  type RateLimitPolicy,
} from '../capacity/rate-limit-fields';
import { counterKey, itemOf } from './rate-limit-report';
import { RateLimitStore, type ThrottlerStorageRecord } from './rate-limit.store';
import { StoreFailurePolicy } from './store-failure.policy';

/** One limit a proxied request may count in. */
interface Limit {
  readonly name: string;
  readonly limit: number;
  readonly ttl: number;
  /** The policy the answer's `RateLimit` fields report it as, if they report it. */
  readonly policy?: RateLimitPolicy;
  applies(method: string, path: string): boolean;
}

/**
 * The limits of `/api/gather/*`, counted in the same `RateLimitStore` (the throttler's storage
 * contract) as the login routes' guards, called directly: per signed-in user
 * (RATE_LIMIT_USER_LIMIT per window), each matching `rateLimit.routes` rule apart, then the
 * organisation's budget towards Gather (GATHER_UPSTREAM_RATE_LIMIT per second, all replicas).
 * Shortest window first, stopping at the first refusal, so a refused request spends nothing
 * further. The per-user limit is the `"user"` item of the answer's `RateLimit` fields, each
 * route rule a `"route:<method> <path>"` item (docs/capacity.md, "RateLimit fields").
 */
@Injectable()
export class ProxyRateLimit {
  private readonly limits: readonly Limit[];
  private readonly perSecond: number | undefined;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(RateLimitStore) private readonly store: RateLimitStore,
    @Inject(StoreFailurePolicy) private readonly failure: StoreFailurePolicy,
  ) {
    const { user, routes, upstreamPerSecond } = config.get('rateLimit', { infer: true });
    const all: Limit[] = [
      {
        name: 'user',
        limit: user.limit,
        ttl: user.windowSeconds * 1000,
        policy: ratePolicy('user', user.limit, user.windowSeconds),
        applies: () => true,
      },
      ...routes.map((rule, index): Limit => {
        const pattern = pathPattern(rule.path);
        return {
          // The index keeps two rules on the same route from sharing a counter.
          name: `route${index}:${rule.method} ${rule.path}`,
          limit: rule.limit,
          ttl: rule.windowSeconds * 1000,
          policy: ratePolicy(`route:${rule.method} ${rule.path}`, rule.limit, rule.windowSeconds),
          applies: (method, path) =>
            (rule.method === '*' || rule.method === method) && pattern.test(path),
        };
      }),
    ];
    // Stable: equal windows keep their order.
    this.limits = all.sort((a, b) => a.ttl - b.ttl);
    this.perSecond = upstreamPerSecond;
  }

  /**
   * Counts one request of `principal` (session/principal.ts) to `method path` (the path Gather receives); throws the 429
   * past a limit, or the 503 when the store is down and the failure policy is closed. The
   * item of each limit goes to `into.rateLimits` as soon as it is counted, refused or not: the caller
   * writes the fields with the head, whatever the answer turns out to be.
   */
  async count(
    into: RateLimitItems,
    principal: Principal,
    method: string,
    path: string,
  ): Promise<void> {
    for (const limit of this.limits) {
      if (!limit.applies(method, path)) continue;
      const record = await this.increment(
        counterKey(limit.name, principal),
        limit.ttl,
        limit.limit,
      );
      if (record === undefined) continue;
      if (limit.policy) addRateLimit(into, itemOf(limit.policy, limit.limit, record));
      if (record.isBlocked) throw rateLimited(record.timeToBlockExpire);
    }
    if (this.perSecond === undefined) return;
    const budget = await this.increment('upstream', 1000, this.perSecond);
    if (budget?.isBlocked) throw rateLimited(1);
  }

  /** undefined: the store failed and the policy lets the request pass unlimited. */
  private async increment(
    key: string,
    ttl: number,
    limit: number,
  ): Promise<ThrottlerStorageRecord | undefined> {
    try {
      return await this.store.increment(key, ttl, limit);
    } catch (err) {
      this.failure.onStoreError(err);
      return undefined;
    }
  }
}
