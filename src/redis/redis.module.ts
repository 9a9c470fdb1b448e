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
import { createRedisClient, keepConnecting, type RedisClient } from './redis-client';
import { redisTopology } from './redis-topology';

/**
 * Owns the shared Redis connection (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES): sessions
 * and rate limits inject it under REDIS_CLIENT, which is `null` when Redis is not configured and
 * in-memory stores are used.
 */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

/** Connects in the background (start-up never waits for Redis) and closes on shutdown. */
@Injectable()
class RedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  private stopConnecting?: () => void;

  constructor(@Inject(REDIS_CLIENT) private readonly client: RedisClient | null) {}

  onModuleInit(): void {
    // Failures are logged by the client's own listeners; it keeps reconnecting until closed.
    if (this.client) this.stopConnecting = keepConnecting(this.client);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopConnecting?.();
    if (!this.client?.isOpen) return;
    // A ready client finishes the commands in flight; one still reconnecting has none to finish.
    if (this.client.isReady) {
      await this.client.close();
      return;
    }
    // A Sentinel client's destroy settles once its connections are gone; the others' at once.
    const destroyed: unknown = this.client.destroy();
    if (destroyed instanceof Promise) await destroyed;
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>): RedisClient | null => {
        const topology = redisTopology(config.get('session', { infer: true }));
        return topology === undefined ? null : createRedisClient(topology, new Logger('Redis'));
      },
    },
    RedisLifecycle,
  ],
  exports: [REDIS_CLIENT],
})
export class RedisModule {}
