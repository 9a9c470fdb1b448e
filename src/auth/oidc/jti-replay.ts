import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { BffError } from '../../http/error-codes';
import { withDeadline } from '../../http/deadline';
import { REDIS_COMMAND_TIMEOUT_MS, type RedisClient } from '../../redis/redis-client';

/**
 * Where logout tokens' `jti`s are remembered until they expire, so none is accepted twice. A
 * `jti` is recorded only once the sessions its token ends have ended: a delivery that failed
 * (503) can be delivered again. Two deliveries of one token at the same moment may both end the
 * sessions, which is harmless; neither is refused.
 */
export abstract class JtiReplay {
  /** Whether `jti` of `issuer` has been recorded as used (a replay). */
  abstract used(issuer: string, jti: string): Promise<boolean>;
  /** Records `jti` of `issuer` as used until `untilMs` (epoch ms). */
  abstract record(issuer: string, jti: string, untilMs: number): Promise<void>;
}

const keyOf = (issuer: string, jti: string): string =>
  createHash('sha256').update(`${issuer}\u0000${jti}`).digest('hex');

/** One instance only: a bounded map; the oldest entries go first when it is full. */
export class MemoryJtiReplay extends JtiReplay {
  private readonly seen: LRUCache<string, true>;

  constructor(max = 10_000) {
    super();
    this.seen = new LRUCache<string, true>({ max, ttlAutopurge: false, ttlResolution: 0 });
  }

  used(issuer: string, jti: string): Promise<boolean> {
    return Promise.resolve(this.seen.has(keyOf(issuer, jti)));
  }

  record(issuer: string, jti: string, untilMs: number): Promise<void> {
    this.seen.set(keyOf(issuer, jti), true, { ttl: Math.max(1, untilMs - Date.now()) });
    return Promise.resolve();
  }
}

export const JTI_KEY_PREFIX = 'gbff:jti:';

/** Shared by every replica, so a token used on one is a replay on every other. */
export class RedisJtiReplay extends JtiReplay {
  constructor(private readonly client: RedisClient) {
    super();
  }

  async used(issuer: string, jti: string): Promise<boolean> {
    const key = JTI_KEY_PREFIX + keyOf(issuer, jti);
    return (await this.run(this.client.exists(key))) === 1;
  }

  async record(issuer: string, jti: string, untilMs: number): Promise<void> {
    const key = JTI_KEY_PREFIX + keyOf(issuer, jti);
    const ttl = Math.max(1, untilMs - Date.now());
    await this.run(this.client.set(key, '1', { expiration: { type: 'PX', value: ttl } }));
  }

  private async run<T>(call: Promise<T>): Promise<T> {
    try {
      return await withDeadline(call, REDIS_COMMAND_TIMEOUT_MS);
    } catch {
      throw new BffError('SERVICE_UNAVAILABLE', 'Sessions are unavailable');
    }
  }
}
