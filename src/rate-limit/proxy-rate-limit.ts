import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { IncomingMessage } from 'node:http';
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

/** What the counts read of a proxied request: the path Gather receives. */
interface CountedRequest extends RateLimitItems {
  readonly req: IncomingMessage;
  readonly target: { readonly path: string };
}

/** A request the early count may run for (see `countAhead`). */
export interface EarlyCountable extends CountedRequest {
  /** Whether the allow-list lists the route: only a listed route is counted. */
  readonly listed: boolean;
  /** The principal the session had when this replica last read it, if it did. */
  readonly expectedPrincipal: Principal | undefined;
}

/** A rate-limit count run ahead of the session check, for the principal it expected. */
export interface EarlyCount {
  readonly principal: Principal;
  /** Where the count put its `RateLimit` items. */
  readonly report: RateLimitItems;
  /** Settles when the count is done: with its refusal (429, 503), or undefined. */
  readonly outcome: Promise<Error | undefined>;
}

/** A signed-in request to count, and the early count started for it, if one was. */
export interface Countable extends CountedRequest {
  readonly user: { readonly principal: Principal };
  readonly earlyCount: EarlyCount | undefined;
}

/** What `countAhead` adds when it counts nothing ahead. */
export const NO_EARLY_COUNT = { earlyCount: undefined } as const;
const counted = (): undefined => undefined;
const asRefusal = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** One limit a proxied request may count in. */
interface Limit {
  readonly name: string;
  readonly limit: number;
  readonly ttl: number;
  /** The policy the answer's `RateLimit` fields report it as. */
  readonly policy: RateLimitPolicy;
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
   * Step, beside the session read: with a store across the network, the count's round trip runs
   * beside the session read's rather than after it, for the principal the session had when last
   * read here; it stands only once the session check confirms that principal
   * (docs/architecture.md, "Stores and replicas").
   */
  readonly countAhead = <C extends EarlyCountable>(
    call: C,
  ): C & { readonly earlyCount: EarlyCount | undefined } => {
    const principal = call.expectedPrincipal;
    if (principal === undefined || !call.listed) return Object.assign(call, NO_EARLY_COUNT);
    const report: RateLimitItems = {};
    const outcome = this.count(report, principal, call.req.method ?? '', call.target.path).then(
      counted,
      asRefusal,
    );
    return Object.assign(call, { earlyCount: { principal, report, outcome } });
  };

  /**
   * Step, once the session and the allow-list passed: the count of the signed-in principal, or
   * the early count when it was started for that principal.
   */
  readonly countCall = <C extends Countable>(call: C): Promise<C> => {
    const { principal } = call.user;
    const early = call.earlyCount;
    if (early?.principal === principal) return this.settle(call, early);
    return this.count(call, principal, call.req.method ?? '', call.target.path);
  };

  private async settle<C extends RateLimitItems>(call: C, early: EarlyCount): Promise<C> {
    const refusal = await early.outcome;
    for (const item of early.report.rateLimits ?? []) addRateLimit(call, item);
    if (refusal !== undefined) throw refusal;
    return call;
  }

  /**
   * Counts one request of `principal` (session/principal.ts) to `method path` (the path Gather receives); throws the 429
   * past a limit, or the 503 when the store is down and the failure policy is closed. The item
   * of each limit goes to `into.rateLimits` as soon as it is counted, refused or not: the caller
   * writes the fields with the head, whatever the answer turns out to be.
   */
  async count<R extends RateLimitItems>(
    into: R,
    principal: Principal,
    method: string,
    path: string,
  ): Promise<R> {
    for (const limit of this.limits) {
      if (!limit.applies(method, path)) continue;
      const record = await this.increment(
        counterKey(limit.name, principal),
        limit.ttl,
        limit.limit,
      );
      if (record === undefined) continue;
      addRateLimit(into, itemOf(limit.policy, limit.limit, record));
      if (record.isBlocked) throw rateLimited(record.timeToBlockExpire);
    }
    if (this.perSecond === undefined) return into;
    const budget = await this.increment('upstream', 1000, this.perSecond);
    if (budget?.isBlocked) throw rateLimited(1);
    return into;
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
