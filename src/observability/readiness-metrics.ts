import { Inject, Injectable, Optional } from '@nestjs/common';
import { withDeadline } from '../http/deadline';
import { Readiness } from '../http/readiness';
import { REDIS_COMMAND_TIMEOUT_MS, type RedisClient } from '../redis/redis-client';
import { REDIS_CLIENT } from '../redis/redis.module';
import { Metrics } from './metrics.service';

/**
 * Feeds `bff_ready`, `bff_readiness_check_passing` and `bff_redis_up` when Prometheus scrapes
 * (docs/operations.md#metrics): the readiness checks run as for `/readyz`, and Redis, when
 * configured, gets one PING with the command deadline. Nothing of it runs per request.
 */
@Injectable()
export class ReadinessMetrics {
  constructor(
    @Inject(Metrics) metrics: Metrics,
    @Inject(Readiness) readiness: Readiness,
    @Optional() @Inject(REDIS_CLIENT) redis: RedisClient | null,
  ) {
    metrics.readReadinessFrom(async () => {
      const failing = await readiness.failing();
      return {
        ready: !readiness.shuttingDown && failing.length === 0,
        checks: readiness.names().map((name) => [name, !failing.includes(name)] as const),
      };
    });
    if (redis) {
      metrics.readRedisFrom(() =>
        withDeadline(redis.ping(), REDIS_COMMAND_TIMEOUT_MS).then(
          () => true,
          () => false,
        ),
      );
    }
  }
}
