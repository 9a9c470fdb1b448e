import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import type { ThrottlerOptions } from '@nestjs/throttler';
import type { Request } from 'express';
import '../gather/proxy-request';
import type { AppConfig, RouteLimitRule } from '../config/config.schema';
import { BffError } from '../http/error-codes';
import { RateLimitStore } from './rate-limit.store';
import { pathPattern } from '../http/path-pattern';
import { StoreBackedThrottlerGuard } from './store-backed-throttler.guard';
import { StoreFailurePolicy } from './store-failure.policy';

function routeThrottler(rule: RouteLimitRule, index: number): ThrottlerOptions {
  const pattern = pathPattern(rule.path);
  return {
    // The index keeps two rules on the same route from sharing a counter.
    name: `route${index}:${rule.method} ${rule.path}`,
    limit: rule.limit,
    ttl: rule.windowSeconds * 1000,
    skipIf: (context: ExecutionContext) => {
      // The path below /api/gather as UpstreamPathGuard checked it, which runs first.
      const req = context.switchToHttp().getRequest<Request>();
      const methodMatches = rule.method === '*' || rule.method === req.method;
      return !(methodMatches && pattern.test(req.gatherTarget?.path ?? ''));
    },
  };
}

/**
 * Per signed-in user on /api/gather/*: RATE_LIMIT_USER_LIMIT per
 * RATE_LIMIT_USER_WINDOW_SECONDS across all routes, plus each matching `rateLimit.routes` rule
 * counted on its own. Runs last in the proxy's guard chain, after the session guard set
 * `req.user`; the tracker is the user's id, never anything the client sends.
 */
@Injectable()
export class UserRateLimitGuard extends StoreBackedThrottlerGuard {
  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(RateLimitStore) storage: RateLimitStore,
    @Inject(Reflector) reflector: Reflector,
    @Inject(StoreFailurePolicy) failure: StoreFailurePolicy,
  ) {
    const { user, routes } = config.get('rateLimit', { infer: true });
    const throttlers: ThrottlerOptions[] = [
      { name: 'user', limit: user.limit, ttl: user.windowSeconds * 1000 },
      ...routes.map(routeThrottler),
    ];
    super({ throttlers }, storage, reflector, failure);
  }

  protected override getTracker(req: Request): Promise<string> {
    const id = req.user?.id;
    // Without a signed-in user there is nothing to count by; never fall back to the address.
    if (typeof id !== 'string' || id === '') throw new BffError('UNAUTHORIZED');
    return Promise.resolve(id);
  }
}
