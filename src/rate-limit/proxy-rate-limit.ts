import { Inject, Injectable, Optional } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { IncomingMessage } from 'node:http';
import type { AppConfig } from '../config/config.schema';
import { pathPattern } from '../http/path-pattern';
import { rateLimited } from './rate-limited';
import type { Principal } from '../session/principal';
import type { KnownUser } from '../session/session-user';
import { addRateLimit, ratePolicy, type RateLimitItems } from '../capacity/rate-limit-fields';
import { countLimits, type CountedLimit } from './count-limits';
import { CountRider } from './count-rider';
import { slotOf } from './rate-limit-report';
import { RateLimitStore, type CapCount, type ThrottlerStorageRecord } from './rate-limit.store';
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
  /** The user the session had when this replica last read it, if it did. */
  readonly expectedUser: KnownUser | undefined;
}

/** A rate-limit count run ahead of the session check, for the user it expected. */
export interface EarlyCount {
  readonly user: KnownUser;
  /** Where the count put its `RateLimit` items. */
  readonly report: RateLimitItems;
  /** Settles when the count is done: with its refusal (429, 503), or the caps it counted. */
  readonly outcome: Promise<Counted | Error>;
}

/**
 * A signed-in request to count, and the early count started for it, if one was and it is not
 * settled yet (`countCall` takes it off, so a refusal before then knows to `abandon` it).
 */
export interface Countable extends CountedRequest {
  readonly user: KnownUser;
  earlyCount: EarlyCount | undefined;
}

/** What `countAhead` adds when it counts nothing ahead. */
export const NO_EARLY_COUNT = { earlyCount: undefined } as const;
const asRefusal = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** The caps a count counted: what to give back if the call is not sent after all. */
type Counted = readonly CapCount[];
const NOTHING_COUNTED: Counted = [];

/** What the proxied path's limits count: whose request, to what (the path Gather receives). */
interface ProxyRequest {
  readonly principal: Principal;
  readonly method: string;
  readonly path: string;
}

const byPrincipal = (request: ProxyRequest): string => request.principal;

/**
 * The limits of `/api/gather/*`, counted in the same `RateLimitStore` (the throttler's storage
 * contract) as the login routes' guards, called directly: per signed-in user
 * (RATE_LIMIT_USER_LIMIT per window), each matching `rateLimit.routes` rule apart, then the
 * organisation's budget towards Gather (GATHER_UPSTREAM_RATE_LIMIT per second, all replicas).
 * Shortest window first, stopping at the first refusal, so a refused request spends nothing
 * further; the quotas ride in the same store step (count-rider.ts). The per-user limit is the `"user"` item of the answer's `RateLimit` fields, each
 * route rule a `"route:<method> <path>"` item (docs/capacity.md, "RateLimit fields").
 */
@Injectable()
export class ProxyRateLimit {
  private readonly limits: readonly CountedLimit<ProxyRequest>[];
  private readonly perSecond: number | undefined;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(RateLimitStore) private readonly store: RateLimitStore,
    @Inject(StoreFailurePolicy) private readonly failure: StoreFailurePolicy,
    @Optional() @Inject(CountRider) private readonly rider: CountRider | null,
  ) {
    const { user, routes, upstreamPerSecond } = config.get('rateLimit', { infer: true });
    const all: CountedLimit<ProxyRequest>[] = [
      {
        name: 'user',
        limit: user.limit,
        ttl: user.windowSeconds * 1000,
        policy: ratePolicy('user', user.limit, user.windowSeconds),
        trackerOf: byPrincipal,
      },
      ...routes.map((rule, index): CountedLimit<ProxyRequest> => {
        const pattern = pathPattern(rule.path);
        return {
          // The index keeps two rules on the same route from sharing a counter.
          name: `route${index}:${rule.method} ${rule.path}`,
          limit: rule.limit,
          ttl: rule.windowSeconds * 1000,
          policy: ratePolicy(`route:${rule.method} ${rule.path}`, rule.limit, rule.windowSeconds),
          trackerOf: ({ principal, method, path }) =>
            (rule.method === '*' || rule.method === method) && pattern.test(path) ? principal : '',
        };
      }),
    ];
    // Stable: equal windows keep their order.
    this.limits = all.sort((a, b) => a.ttl - b.ttl);
    this.perSecond = upstreamPerSecond;
  }

  /**
   * Step, beside the session read: with a store across the network, the count's round trip runs
   * beside the session read's rather than after it, for the user the session had when last read
   * here; it stands only once the session check confirms that user (docs/architecture.md,
   * "Stores and replicas").
   */
  readonly countAhead = <C extends EarlyCountable>(
    call: C,
  ): C & { earlyCount: EarlyCount | undefined } => {
    const user = call.expectedUser;
    if (user === undefined || !call.listed) return Object.assign(call, NO_EARLY_COUNT);
    const report: RateLimitItems = {};
    const outcome = this.countRiding(report, user, call.req.method ?? '', call.target.path).catch(
      asRefusal,
    );
    return Object.assign(call, { earlyCount: { user, report, outcome } });
  };

  /**
   * Step, once the session and the allow-list passed: the count of the signed-in user, or the
   * early count when it was started for that user (and team: the quotas it counted are theirs).
   */
  readonly countCall = async <C extends Countable>(call: C): Promise<C> => {
    const { user, earlyCount: early } = call;
    if (early !== undefined) {
      call.earlyCount = undefined;
      const outcome = await early.outcome;
      if (early.user.principal === user.principal && early.user.team === user.team) {
        for (const item of early.report.rateLimits ?? []) addRateLimit(call, item);
        if (outcome instanceof Error) throw outcome;
        return call;
      }
      if (!(outcome instanceof Error)) this.giveBack(outcome);
    }
    await this.countRiding(call, user, call.req.method ?? '', call.target.path);
    return call;
  };

  /**
   * For a call refused before `countCall` settled its early count (no session after all, a
   * route refused, a pause): the quotas it took go back, since nothing is forwarded. Its
   * rate-limit counts stand, as for any refused request.
   */
  abandon(early: EarlyCount): void {
    void early.outcome.then((outcome) => {
      if (!(outcome instanceof Error)) this.giveBack(outcome);
    });
  }

  /**
   * Counts one request of `user` to `method path` (the path Gather receives), its quotas riding
   * in the same store step (count-rider.ts); throws the 429 past a limit or a quota, or the 503
   * when the store is down and the failure policy is closed. The item of each limit goes to
   * `into.rateLimits` as soon as it is counted, refused or not: the caller writes the fields
   * with the head, whatever the answer turns out to be.
   */
  async count<R extends RateLimitItems>(
    into: R,
    user: KnownUser,
    method: string,
    path: string,
  ): Promise<R> {
    await this.countRiding(into, user, method, path);
    return into;
  }

  private async countRiding(
    into: RateLimitItems,
    { principal, team }: KnownUser,
    method: string,
    path: string,
  ): Promise<Counted> {
    const ride = this.rider?.rideOf(principal, team);
    const tally = await countLimits(
      this.store,
      this.failure,
      this.limits,
      { principal, method, path },
      into,
      { slot: slotOf(principal, team), caps: ride?.caps ?? [] },
    );
    let counted = NOTHING_COUNTED;
    if (ride !== undefined && tally !== undefined) {
      ride.settle(into, tally);
      counted = ride.caps;
    }
    if (this.perSecond === undefined) return counted;
    const budget = await this.increment('upstream', 1000, this.perSecond);
    if (budget?.isBlocked) {
      this.giveBack(counted);
      throw rateLimited(1);
    }
    return counted;
  }

  private giveBack(counted: Counted): void {
    if (counted.length > 0) this.store.uncountCaps(counted.map((cap) => cap.key));
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
