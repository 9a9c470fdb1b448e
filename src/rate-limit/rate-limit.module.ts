import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import { readinessCheck } from '../http/readiness';
import { REDIS_CLIENT } from '../redis/redis.module';
import type { RedisClient } from '../redis/redis-client';
import { MemoryRateLimitStore } from './memory-rate-limit.store';
import { ProxyRateLimit } from './proxy-rate-limit';
import { RateLimitStore } from './rate-limit.store';
import { RedisRateLimitStore } from './redis-rate-limit.store';
import { StoreFailurePolicy } from './store-failure.policy';

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
    // `/readyz` fails while the counter store does not answer (docs/contract.md, "Health and metrics").
    readinessCheck('rate-limit-store', RateLimitStore, (store) => store.ping()),
    ProxyRateLimit,
  ],
  exports: [RateLimitStore, StoreFailurePolicy, ProxyRateLimit],
})
export class RateLimitModule {}
