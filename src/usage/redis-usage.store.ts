import { withDeadline } from '../http/deadline';
import { BffError } from '../http/error-codes';
import { REDIS_COMMAND_TIMEOUT_MS, redisTimedOut, type RedisClient } from '../redis/redis-client';
import {
  sortRows,
  UsageStore,
  USAGE_FIELDS,
  type UsageCounts,
  type UsageDimension,
  type UsageField,
  type UsageIncrement,
  type UsageRow,
} from './usage.store';

export const USAGE_KEY_PREFIX = 'gbff:usage:';

const DAY_SECONDS = 86_400;

/** A field of a day's hash: one letter for the count, then the name (`c:alice`). */
const LETTER: Record<UsageField, string> = { calls: 'c', errors: 'e', throttled: 't' };
const FIELD_OF: Record<string, UsageField> = { c: 'calls', e: 'errors', t: 'throttled' };

/**
 * Daily usage in Redis: one hash per date and dimension (`gbff:usage:2026-12-07:user`, fields
 * `c:<name>`, `e:<name>`, `t:<name>`), expiring USAGE_RETENTION_DAYS after its day; when each key
 * was last used in a sorted set (ZADD GT keeps the latest, whichever replica flushes last). No
 * hash tags: a flush writes at most three hashes a day, on up to three Cluster shards, and
 * node-redis sends the commands of one flush to each node as one batch.
 */
export class RedisUsageStore extends UsageStore {
  constructor(
    private readonly client: RedisClient,
    private readonly retentionDays: number,
    private readonly prefix = USAGE_KEY_PREFIX,
  ) {
    super();
  }

  async add(
    increments: readonly UsageIncrement[],
    lastUsed: ReadonlyMap<string, number>,
  ): Promise<void> {
    const pending: Promise<unknown>[] = [];
    const expiring = new Map<string, number>();
    for (const { date, by, name, field, count } of increments) {
      const key = this.key(date, by);
      pending.push(this.client.hIncrBy(key, `${LETTER[field]}:${name}`, count));
      expiring.set(key, Date.parse(date) / 1000 + (this.retentionDays + 1) * DAY_SECONDS);
    }
    for (const [key, at] of expiring) pending.push(this.client.expireAt(key, at));
    for (const [fingerprint, at] of lastUsed) {
      pending.push(
        this.client.zAdd(
          `${this.prefix}keys-last-used`,
          { score: at, value: fingerprint },
          { GT: true },
        ),
      );
    }
    await withDeadline(Promise.all(pending), REDIS_COMMAND_TIMEOUT_MS, redisTimedOut);
  }

  async rows(by: UsageDimension, dates: readonly string[]): Promise<UsageRow[]> {
    const hashes = await this.read(dates.map((date) => this.client.hGetAll(this.key(date, by))));
    const rows: UsageRow[] = [];
    dates.forEach((date, i) => {
      const named = new Map<string, UsageCounts>();
      for (const [field, value] of Object.entries(hashes[i] ?? {})) {
        const kind = FIELD_OF[field.slice(0, 1)];
        if (kind === undefined || field[1] !== ':') continue;
        const name = field.slice(2);
        let counts = named.get(name);
        if (counts === undefined) named.set(name, (counts = { calls: 0, errors: 0, throttled: 0 }));
        counts[kind] += Number(value);
      }
      for (const [name, counts] of named) rows.push({ name, date, ...counts });
    });
    return sortRows(rows.filter((r) => USAGE_FIELDS.some((f) => r[f] > 0)));
  }

  async total(by: UsageDimension, name: string, dates: readonly string[]): Promise<number> {
    const values = await this.read(
      dates.map((date) => this.client.hGet(this.key(date, by), `c:${name}`)),
    );
    return values.reduce((sum: number, v) => sum + Number(v ?? 0), 0);
  }

  async lastUsed(): Promise<Map<string, number>> {
    const [members] = await this.read([
      this.client.zRangeWithScores(`${this.prefix}keys-last-used`, 0, -1),
    ]);
    return new Map((members ?? []).map((m) => [m.value, m.score]));
  }

  /**
   * The replies of `commands`, under the deadline. A store that is down or silent is a 503 with
   * a message that says which store, not a 500: the operators' page shows it as such, and the
   * flush already logs the outage (docs/capacity.md, "Usage").
   */
  private async read<T>(commands: Promise<T>[]): Promise<T[]> {
    try {
      return await withDeadline(Promise.all(commands), REDIS_COMMAND_TIMEOUT_MS, redisTimedOut);
    } catch {
      throw new BffError('SERVICE_UNAVAILABLE', 'The usage store is unavailable');
    }
  }

  private key(date: string, by: UsageDimension): string {
    return `${this.prefix}${date}:${by}`;
  }
}
