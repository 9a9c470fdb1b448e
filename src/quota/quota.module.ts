import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import { REDIS_CLIENT } from '../redis/redis.module';
import type { RedisClient } from '../redis/redis-client';
import { MemoryQuotaStore } from './memory-quota.store';
import { ProxyQuota } from './proxy-quota';
import { QuotaStore } from './quota.store';
import { RedisQuotaStore } from './redis-quota.store';

/** Quotas: their counters (Redis when configured, bounded memory otherwise) and the proxied path's check. */
@Global()
@Module({
  providers: [
    {
      provide: QuotaStore,
      inject: [ConfigService, REDIS_CLIENT],
      useFactory: (
        config: ConfigService<AppConfig, true>,
        redis: RedisClient | null,
      ): QuotaStore =>
        redis
          ? new RedisQuotaStore(
              redis,
              config.get('session', { infer: true }).redisClusterNodes !== undefined,
            )
          : new MemoryQuotaStore(config.get('rateLimit', { infer: true }).memoryMaxKeys),
    },
    ProxyQuota,
  ],
  exports: [QuotaStore, ProxyQuota],
})
export class QuotaModule {}
