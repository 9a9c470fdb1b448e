import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConfigModule } from '@nestjs/config';
import type { Writable } from 'node:stream';
import { AdminPageModule } from './admin-page/admin-page.module';
import type { AppConfig } from './config/config.schema';
import { ErrorEnvelopeFilter } from './http/error.filter';
import { GatherModule } from './gather/gather.module';
import { KeysModule } from './keys/keys.module';
import { LoggingModule } from './observability/logging.module';
import { HealthModule } from './observability/health.module';
import { AuthModule } from './auth/auth.module';
import { SessionModule } from './session/session.module';
import { ObservabilityModule } from './observability/observability.module';
import { QuotaModule } from './quota/quota.module';
import { UsageModule } from './usage/usage.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { RedisModule } from './redis/redis.module';

/** What a caller may replace besides configuration. */
export interface AppOptions {
  /** Where log lines go instead of stdout. */
  logDestination?: Writable;
}

/** Wires the modules; the configuration is loaded and validated before this is built. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, options: AppOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => config] }),
        LoggingModule.forRoot(options.logDestination),
        KeysModule,
        RedisModule,
        RateLimitModule,
        QuotaModule,
        UsageModule,
        SessionModule,
        AuthModule.forRoot(config.auth),
        ObservabilityModule,
        HealthModule,
        GatherModule,
        AdminPageModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: ErrorEnvelopeFilter }],
    };
  }
}
