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
 * Quota counters shared by every replica. On one Redis (plain or Sentinel) a call's quotas are one
 * script: one round trip, exact. On a Cluster, the user's quotas are one script on the user's
 * slot and, only when they pass, the team's one on the team's slot (a second round trip); when
 * the team refuses, the user's count is given back. Done the other way round, a user's refusal
 * would hold a team counter up for a moment and could refuse a team mate the team still had room
 * for (docs/capacity.md, "Quotas").
 */
export class RedisQuotaStore extends QuotaStore {
  constructor(
    private readonly client: RedisClient,
    private readonly cluster: boolean,
    private readonly prefix = QUOTA_KEY_PREFIX,
  ) {
    super();
  }

  async take(quotas: readonly AppliedQuota[]): Promise<QuotaTake> {
    if (!this.cluster) return this.takeGroup(quotas);
    const user = quotas.filter((q) => q.scope === 'user');
    const team = quotas.filter((q) => q.scope === 'team');
    if (user.length === 0 || team.length === 0) return this.takeGroup(quotas);
    const first = await this.takeGroup(user);
    if (first.refused !== undefined) return first;
    let second: QuotaTake;
    try {
      second = await this.takeGroup(team);
    } catch (err) {
      this.giveBack(user);
      throw err;
    }
    if (second.refused !== undefined) {
      this.giveBack(user);
      return second;
    }
    return { uses: [...first.uses, ...second.uses] };
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
