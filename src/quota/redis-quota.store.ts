import { withDeadline } from '../http/deadline';
import { counterKey } from '../rate-limit/rate-limit-report';
import { REDIS_COMMAND_TIMEOUT_MS, redisTimedOut, type RedisClient } from '../redis/redis-client';
import { redisScript, runScript } from '../redis/run-script';
import type { AppliedQuota } from './quota-plan';
import { QuotaStore, type QuotaTake, type QuotaUse } from './quota.store';

export const QUOTA_KEY_PREFIX = 'gbff:q:';

/** A counter outlives its period by this much, so a replica whose clock lags still finds it. */
const EXPIRY_SLACK_SECONDS = 3600;

/**
 * Check every counter, then count them all, in one server-side step: replicas counting the same
 * quota at once can never both see "one left". ARGV holds each key's limit and expiry (Unix
 * seconds). Answers `{0, used...}` when counted, `{i, used}` when the i-th key is used up.
 */
const TAKE = redisScript(`
for i, key in ipairs(KEYS) do
  local used = tonumber(redis.call('GET', key) or '0')
  if used >= tonumber(ARGV[2 * i - 1]) then return { i, used } end
end
local out = { 0 }
for i, key in ipairs(KEYS) do
  local used = redis.call('INCR', key)
  if used == 1 then redis.call('EXPIREAT', key, ARGV[2 * i]) end
  out[i + 1] = used
end
return out
`);

/**
 * The counter of `quota`. The owner is hashed and in a hash tag, so all of a user's counters
 * share one Redis Cluster slot, and all of a team's another: a user's and their team's cannot
 * share one, since every member of the team counts in the same team counters.
 */
function keyOf(prefix: string, quota: AppliedQuota): string {
  const tag = counterKey(quota.scope === 'user' ? 'u' : 't', quota.owner);
  return `${prefix}{${tag}}:${quota.period.kind}:${quota.period.id}`;
}

/**
 * Quota counters shared by every replica. A call's user quotas are one script on the user's
 * slot and its team quotas one on the team's, sent together (one round trip; node-redis writes
 * commands issued in the same tick as one batch). When one side refuses and the other counted,
 * the other is given back at once, so a refused call spends no quota (docs/capacity.md, "Quotas").
 */
export class RedisQuotaStore extends QuotaStore {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix = QUOTA_KEY_PREFIX,
  ) {
    super();
  }

  async take(quotas: readonly AppliedQuota[]): Promise<QuotaTake> {
    const groups = (['user', 'team'] as const)
      .map((scope) => quotas.filter((q) => q.scope === scope))
      .filter((group) => group.length > 0);
    const settled = await Promise.allSettled(groups.map((group) => this.takeGroup(group)));
    const counted = settled.flatMap((s, i) =>
      s.status === 'fulfilled' && s.value.refused === undefined ? [groups[i]!] : [],
    );
    const failed = settled.find((s) => s.status === 'rejected');
    const refusal = settled.find(
      (s): s is PromiseFulfilledResult<QuotaTake> =>
        s.status === 'fulfilled' && s.value.refused !== undefined,
    );
    if ((failed !== undefined || refusal !== undefined) && counted.length > 0) {
      this.giveBack(counted.flat());
    }
    if (failed !== undefined) throw failed.reason;
    if (refusal !== undefined) return refusal.value;
    return {
      uses: settled.flatMap((s) => (s.status === 'fulfilled' ? s.value.uses : [])),
    };
  }

  async read(quotas: readonly AppliedQuota[]): Promise<QuotaUse[]> {
    const values = await Promise.all(
      quotas.map((q) =>
        withDeadline(this.client.get(this.key(q)), REDIS_COMMAND_TIMEOUT_MS, redisTimedOut),
      ),
    );
    return quotas.map((quota, i) => ({ quota, used: Number(values[i] ?? 0) }));
  }

  private async takeGroup(group: readonly AppliedQuota[]): Promise<QuotaTake> {
    const args = group.flatMap((q) => [
      String(q.limit),
      String(Math.ceil(q.period.end.getTime() / 1000) + EXPIRY_SLACK_SECONDS),
    ]);
    const reply = (await runScript(
      this.client,
      TAKE,
      group.map((q) => this.key(q)),
      args,
    )) as number[];
    const [refusedAt, ...used] = reply;
    if (refusedAt !== 0) {
      const refused = group[refusedAt! - 1]!;
      return { uses: [{ quota: refused, used: used[0]! }], refused };
    }
    return { uses: group.map((quota, i) => ({ quota, used: used[i]! })) };
  }

  /** Uncounts a call the other slot refused; if this is lost, the quota keeps one call too many. */
  private giveBack(quotas: readonly AppliedQuota[]): void {
    for (const q of quotas) {
      this.client.decr(this.key(q)).catch(() => undefined);
    }
  }

  private key(quota: AppliedQuota): string {
    return keyOf(this.prefix, quota);
  }
}
