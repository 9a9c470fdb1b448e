import { withDeadline } from '../http/deadline';
import { REDIS_COMMAND_TIMEOUT_MS, redisTimedOut, type RedisClient } from '../redis/redis-client';
import { redisScript, runScript } from '../redis/run-script';
import {
  RateLimitStore,
  windowRecord,
  type CallTally,
  type CapCount,
  type ThrottlerStorageRecord,
  type WindowCount,
} from './rate-limit.store';

export const RATE_LIMIT_KEY_PREFIX = 'gbff:rl:';
export const QUOTA_KEY_PREFIX = 'gbff:q:';

/** A cap outlives its period by this much, so a replica whose clock lags still finds it. */
const EXPIRY_SLACK_SECONDS = 3600;

/**
 * A request's counts in one server-side step, so replicas counting the same keys at once can
 * never both see "under the limit". KEYS: the windows, then the caps. ARGV[1]: how many windows;
 * then each window's ttl (ms) and limit; then each cap's limit and expiry (Unix seconds).
 * A window's expiry is set by the hit that opens it (or repaired if a key somehow lost it).
 * Answers `{windows counted, cap state, hits, ms left, ..., cap uses...}`: cap state 0 when no cap
 * was touched (none given, or a window refused), -1 when every cap was counted, i when the i-th
 * was used up (then the uses are as found, nothing counted).
 */
const CALL = redisScript(`
local n = tonumber(ARGV[1])
local out = { 0, 0 }
for i = 1, n do
  local hits = redis.call('INCR', KEYS[i])
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl < 0 then
    ttl = tonumber(ARGV[2 * i])
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
  out[1] = i
  out[2 * i + 1] = hits
  out[2 * i + 2] = ttl
  if hits > tonumber(ARGV[2 * i + 1]) then return out end
end
if #KEYS == n then return out end
local base = 2 * n + 1
local at = 2 * n + 3
for j = n + 1, #KEYS do
  local used = tonumber(redis.call('GET', KEYS[j]) or '0')
  out[at + j - n - 1] = used
  if out[2] == 0 and used >= tonumber(ARGV[base + 2 * (j - n) - 1]) then out[2] = j - n end
end
if out[2] ~= 0 then return out end
out[2] = -1
for j = n + 1, #KEYS do
  local used = redis.call('INCR', KEYS[j])
  if used == 1 then redis.call('EXPIREAT', KEYS[j], ARGV[base + 2 * (j - n)]) end
  out[at + j - n - 1] = used
end
return out
`);

/**
 * Counters shared by every replica. Each request's counts are one EVALSHA under the store's
 * deadline (redis/run-script.ts): the client's own timeout stops counting once a command is
 * sent, so a Redis that stopped answering would hang.
 */
export class RedisRateLimitStore extends RateLimitStore {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix = RATE_LIMIT_KEY_PREFIX,
    private readonly capPrefix = QUOTA_KEY_PREFIX,
  ) {
    super();
  }

  async ping(): Promise<void> {
    await withDeadline(this.client.ping(), REDIS_COMMAND_TIMEOUT_MS, redisTimedOut);
  }

  async countCall(windows: readonly WindowCount[], caps: readonly CapCount[]): Promise<CallTally> {
    const keys = windows.map((w) => this.prefix + w.key);
    const args = [String(windows.length)];
    for (const w of windows) args.push(String(w.ttl), String(w.limit));
    for (const cap of caps) {
      keys.push(this.capPrefix + cap.key);
      args.push(String(cap.limit), String(Math.ceil(cap.expiresAt / 1000) + EXPIRY_SLACK_SECONDS));
    }
    const reply = (await runScript(this.client, CALL, keys, args)) as number[];
    const counted = reply[0]!;
    const records: ThrottlerStorageRecord[] = [];
    for (let i = 0; i < counted; i++) {
      records.push(windowRecord(reply[2 + 2 * i]!, reply[3 + 2 * i]!, windows[i]!.limit));
    }
    const state = reply[1]!;
    if (state === 0) return { windows: records, caps: undefined };
    return {
      windows: records,
      caps: {
        used: reply.slice(2 + 2 * windows.length),
        refusedAt: state === -1 ? undefined : state - 1,
      },
    };
  }

  async readCaps(keys: readonly string[]): Promise<number[]> {
    const values = await Promise.all(
      keys.map((key) =>
        withDeadline(
          this.client.get(this.capPrefix + key),
          REDIS_COMMAND_TIMEOUT_MS,
          redisTimedOut,
        ),
      ),
    );
    return values.map((value) => Number(value ?? 0));
  }

  uncountCaps(keys: readonly string[]): void {
    for (const key of keys) this.client.decr(this.capPrefix + key).catch(() => undefined);
  }
}
