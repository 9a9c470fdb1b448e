import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { BffError } from '../../http/error-codes';
import { withDeadline } from '../../http/deadline';
import { REDIS_COMMAND_TIMEOUT_MS, type RedisClient } from '../../redis/redis-client';

/** Where logout tokens' `jti`s are remembered until they expire, so none is accepted twice. */
export abstract class JtiReplay {
  /** True the first time `jti` of `issuer` is seen before `untilMs` (epoch ms); false for a replay. */
  abstract firstUse(issuer: string, jti: string, untilMs: number): Promise<boolean>;
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

  firstUse(issuer: string, jti: string, untilMs: number): Promise<boolean> {
    const key = keyOf(issuer, jti);
    if (this.seen.has(key)) return Promise.resolve(false);
    this.seen.set(key, true, { ttl: Math.max(1, untilMs - Date.now()) });
    return Promise.resolve(true);
  }
}

export const JTI_KEY_PREFIX = 'gbff:jti:';

/** Shared by every replica: SET NX PX, so exactly one replica accepts a given token. */
export class RedisJtiReplay extends JtiReplay {
  constructor(private readonly client: RedisClient) {
    super();
  }

  async firstUse(issuer: string, jti: string, untilMs: number): Promise<boolean> {
    try {
      const set = await withDeadline(
        this.client.set(JTI_KEY_PREFIX + keyOf(issuer, jti), '1', {
          condition: 'NX',
          expiration: { type: 'PX', value: Math.max(1, untilMs - Date.now()) },
        }),
        REDIS_COMMAND_TIMEOUT_MS,
      );
      return set === 'OK';
    } catch {
      throw new BffError('SERVICE_UNAVAILABLE', 'Sessions are unavailable');
    }
  }
}
