import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import { PausesModule } from '../capacity/pauses.module';
import { KeysModule } from '../keys/keys.module';
import { REDIS_CLIENT } from '../redis/redis.module';
import type { RedisClient } from '../redis/redis-client';
import { AdminUsageRoutes } from './admin-usage.routes';
import { MemoryUsageStore } from './memory-usage.store';
import { RedisUsageStore } from './redis-usage.store';
import { TeamQuotaMetrics } from './team-quota-metrics';
import { UsageController } from './usage.controller';
import { UsageRecorder } from './usage-recorder';
import { UsageReport } from './usage-report';
import { UsageStore } from './usage.store';

/**
 * Usage per day, user, team and key (docs/capacity.md, "Usage"): the recorder the proxied path
 * reports to, its store (Redis when configured, memory otherwise), GET /auth/usage, the admin
 * routes the metrics listener serves, and the team quota gauge, which finds its teams here.
 */
@Global()
@Module({
  imports: [KeysModule, PausesModule],
  controllers: [UsageController],
  providers: [
    {
      provide: UsageStore,
      inject: [ConfigService, REDIS_CLIENT],
      useFactory: (
        config: ConfigService<AppConfig, true>,
        redis: RedisClient | null,
      ): UsageStore => {
        const { retentionDays } = config.get('usage', { infer: true });
        return redis
          ? new RedisUsageStore(redis, retentionDays)
          : new MemoryUsageStore(retentionDays);
      },
    },
    UsageRecorder,
    UsageReport,
    AdminUsageRoutes,
    TeamQuotaMetrics,
  ],
  exports: [UsageRecorder],
})
export class UsageModule {}
