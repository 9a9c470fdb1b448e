import { Global, Inject, Injectable, Module, Optional, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import { Readiness } from '../observability/readiness';
import { REDIS_CLIENT } from '../redis/redis.module';
import type { RedisClient } from '../redis/redis-client';
import { MemoryRateLimitStore } from './memory-rate-limit.store';
import { ProxyRateLimit } from './proxy-rate-limit';
import { RateLimitStore } from './rate-limit.store';
import { RedisRateLimitStore } from './redis-rate-limit.store';
import { StoreFailurePolicy } from './store-failure.policy';

/** `/readyz` fails while the counter store does not answer (docs/contract.md, "Health and metrics"). */
@Injectable()
class RateLimitReadiness implements OnModuleInit {
  constructor(
    @Inject(RateLimitStore) private readonly store: RateLimitStore,
    @Optional() @Inject(Readiness) private readonly readiness: Readiness | null,
  ) {}

  onModuleInit(): void {
    this.readiness?.register('rate-limit-store', () => this.store.ping());
  }
}

/**
 * Owns rate limiting: the counter store (Redis when REDIS_URL is set, bounded memory
 * otherwise), the failure policy, the proxied path's limits (`ProxyRateLimit`) and the login
 * route's guard (`LoginRateLimitGuard`); global so their dependencies resolve anywhere.
 */
@Global()
@Module({
  providers: [
    {
      provide: RateLimitStore,
      inject: [ConfigService, REDIS_CLIENT],
      useFactory: (
        config: ConfigService<AppConfig, true>,
        redis: RedisClient | null,
      ): RateLimitStore =>
        redis
          ? new RedisRateLimitStore(redis)
          : new MemoryRateLimitStore(config.get('rateLimit', { infer: true }).memoryMaxKeys),
    },
    StoreFailurePolicy,
    RateLimitReadiness,
    ProxyRateLimit,
  ],
  exports: [RateLimitStore, StoreFailurePolicy, ProxyRateLimit],
})
export class RateLimitModule {}
