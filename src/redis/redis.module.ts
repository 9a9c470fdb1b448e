import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import { createRedisClient, type RedisClient } from './redis-client';

/**
 * Owns the shared Redis connection (REDIS_URL): sessions and rate limits inject it under
 * REDIS_CLIENT, which is `null` when Redis is not configured and in-memory stores are used.
 */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

/** Connects in the background (start-up never waits for Redis) and closes on shutdown. */
@Injectable()
class RedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly client: RedisClient | null) {}

  onModuleInit(): void {
    // Failures are logged by the client's own listeners; it keeps reconnecting until closed.
    this.client?.connect().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.client?.isOpen) return;
    // A ready client finishes the commands in flight; one still reconnecting has none to finish.
    if (this.client.isReady) await this.client.close();
    else this.client.destroy();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>): RedisClient | null => {
        const url = config.get('session', { infer: true }).redisUrl;
        return url === undefined ? null : createRedisClient(url, new Logger('Redis'));
      },
    },
    RedisLifecycle,
  ],
  exports: [REDIS_CLIENT],
})
export class RedisModule {}
