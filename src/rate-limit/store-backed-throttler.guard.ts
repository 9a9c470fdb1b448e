import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { writeRateLimitFields, type RateLimitItems } from '../capacity/rate-limit-fields';
import { countLimits, type CountedLimit } from './count-limits';
import type { RateLimitStore } from './rate-limit.store';
import type { StoreFailurePolicy } from './store-failure.policy';

/**
 * A route's limits as docs/contract.md ("Rate limits") has them, counted by the proxied path's
 * loop (count-limits.ts): counters in our store, `RateLimit-Policy` and `RateLimit` with one item
 * per policy, the tightest of its limits, on every response it passes or rejects
 * (docs/capacity.md, "RateLimit fields"), the 429 in Gather's envelope, and the
 * RATE_LIMIT_REDIS_FAILURE policy when the store does not answer.
 */
export abstract class StoreBackedThrottlerGuard implements CanActivate {
  protected constructor(
    private readonly limits: readonly CountedLimit<ExecutionContext>[],
    private readonly store: RateLimitStore,
    private readonly failure: StoreFailurePolicy,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const counted: RateLimitItems = {};
    try {
      await countLimits(this.store, this.failure, this.limits, context, counted);
    } finally {
      // Refused or not, and when reading the body for a tracker failed.
      if (counted.rateLimits) {
        writeRateLimitFields(
          context.switchToHttp().getResponse<ServerResponse>(),
          counted.rateLimits,
        );
      }
    }
    return true;
  }
}
