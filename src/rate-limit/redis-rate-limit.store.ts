import { createHash } from 'node:crypto';
import { withDeadline } from '../http/deadline';
import { REDIS_COMMAND_TIMEOUT_MS, redisTimedOut, type RedisClient } from '../redis/redis-client';
import { RateLimitStore, windowRecord, type ThrottlerStorageRecord } from './rate-limit.store';

export const RATE_LIMIT_KEY_PREFIX = 'gbff:rl:';

/**
 * Count and read the window in one server-side step, so replicas hitting the same key at once
 * can never both see "under the limit". The window's expiry is set by the hit that opens it
 * (or repaired if a key somehow lost it).
 */
const COUNT_SCRIPT = `
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  ttl = tonumber(ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return { hits, ttl }
`;
const COUNT_SHA = createHash('sha1').update(COUNT_SCRIPT).digest('hex');

/**
 * Counters shared by every replica. Each call is one EVALSHA under a deadline: the client's own
 * timeout stops counting once a command is sent, so a Redis that stopped answering would hang.
 */
export class RedisRateLimitStore extends RateLimitStore {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix = RATE_LIMIT_KEY_PREFIX,
  ) {
    super();
  }

  async ping(): Promise<void> {
    await withDeadline(this.client.ping(), REDIS_COMMAND_TIMEOUT_MS, redisTimedOut);
  }

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const args = { keys: [this.prefix + key], arguments: [String(ttl)] };
    let reply: unknown;
    try {
      reply = await withDeadline(
        this.client.evalSha(COUNT_SHA, args),
        REDIS_COMMAND_TIMEOUT_MS,
        redisTimedOut,
      );
    } catch (err) {
      // A restarted or flushed server has forgotten the script; EVAL loads it again.
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      reply = await withDeadline(
        this.client.eval(COUNT_SCRIPT, args),
        REDIS_COMMAND_TIMEOUT_MS,
        redisTimedOut,
      );
    }
    const [hits, msLeft] = reply as [number, number];
    return windowRecord(hits, msLeft, limit);
  }
}
