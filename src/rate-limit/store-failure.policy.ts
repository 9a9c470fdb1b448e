import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import { BffError } from '../http/error-codes';

const LOG_EVERY_MS = 10_000;

/**
 * What a request gets when the rate-limit store (Redis) does not answer, per
 * RATE_LIMIT_REDIS_FAILURE:
 * - `closed` (default): 503 SERVICE_UNAVAILABLE. No request goes unlimited, at the cost of
 *   availability while Redis is down.
 * - `open`: the request passes without a limit; the log says how many did. Gather's own limits
 *   are then the only ones.
 * Either way the Redis client keeps reconnecting and limits resume by themselves.
 */
@Injectable()
export class StoreFailurePolicy {
  private readonly logger = new Logger('RateLimit');
  private readonly failOpen: boolean;
  private lastLogAt = 0;
  private unloggedFailures = 0;

  constructor(@Inject(ConfigService) config: ConfigService<AppConfig, true>) {
    this.failOpen = config.get('rateLimit', { infer: true }).redisFailure === 'open';
  }

  /** Returns when the request may pass unlimited; throws the 503 otherwise. */
  onStoreError(err: unknown): void {
    this.log(err);
    if (!this.failOpen) {
      throw new BffError('SERVICE_UNAVAILABLE', 'Rate limiting is unavailable');
    }
  }

  /** One line per interval, not per request, while the store is down. */
  private log(err: unknown): void {
    this.unloggedFailures += 1;
    const now = Date.now();
    if (now - this.lastLogAt < LOG_EVERY_MS) return;
    this.logger.warn(
      `Rate-limit store unavailable (${err instanceof Error ? err.message : String(err)}); ` +
        `${this.unloggedFailures} request(s) ${this.failOpen ? 'passed unlimited' : 'refused with 503'}`,
    );
    this.lastLogAt = now;
    this.unloggedFailures = 0;
  }
}
