import { Inject, Injectable } from '@nestjs/common';
import { KeyPauses } from '../capacity/key-pauses';
import { GatherKeys } from '../keys/gather-keys.service';
import { ProxyQuota } from '../quota/proxy-quota';
import { monthPeriod, utcDate } from '../quota/quota-period';
import type { Principal } from '../session/principal';
import { UsageStore, type UsageDimension, type UsageRow } from './usage.store';

const DAY_MS = 86_400_000;

/** GET /auth/usage. */
export interface OwnUsage {
  userId: string;
  team: string | null;
  today: { calls: number };
  month: { calls: number };
  quotas: { name: string; limit: number; remaining: number; resetAt: string }[];
}

/** One entry of GET /admin/keys. */
export interface KeyUsage {
  fingerprint: string;
  use: string;
  source: string;
  loadedAt: string;
  lastUsedAt: string | null;
  callsToday: number;
  pausedUntil: string | null;
}

/** The UTC dates from `from` to `to`, both `YYYY-MM-DD`, inclusive. */
export function datesBetween(from: string, to: string): string[] {
  const dates: string[] = [];
  for (let at = Date.parse(from); at <= Date.parse(to); at += DAY_MS) {
    dates.push(utcDate(new Date(at)));
  }
  return dates;
}

/** The user id a principal shows as (`local:alice` → `alice`), as /auth/me shows it. */
function userIdOf(principal: string): string {
  return principal.slice(principal.indexOf(':') + 1);
}

/** What the usage routes answer, read from the usage store, the quotas and the keys held. */
@Injectable()
export class UsageReport {
  constructor(
    @Inject(UsageStore) private readonly store: UsageStore,
    @Inject(ProxyQuota) private readonly quota: ProxyQuota,
    @Inject(GatherKeys) private readonly keys: GatherKeys,
    @Inject(KeyPauses) private readonly pauses: KeyPauses,
  ) {}

  /** The user's calls today and this (quota) month, and what is left of each quota. */
  async own(principal: Principal, team: string | undefined): Promise<OwnUsage> {
    const now = new Date();
    const today = utcDate(now);
    const month = datesBetween(monthPeriod(now, this.quota.monthStartDay).id, today);
    const [todayCalls, monthCalls, quotas] = await Promise.all([
      this.store.total('user', principal, [today]),
      this.store.total('user', principal, month),
      this.quota.state(principal, team),
    ]);
    return {
      userId: userIdOf(principal),
      team: team ?? null,
      today: { calls: todayCalls },
      month: { calls: monthCalls },
      quotas: quotas.map(({ quota, used }) => ({
        name: quota.name,
        limit: quota.limit,
        remaining: Math.max(0, quota.limit - used),
        resetAt: quota.period.end.toISOString(),
      })),
    };
  }

  /** Rows by user (named by user id), team or key fingerprint, sorted by date then name. */
  async rows(by: UsageDimension, from: string, to: string): Promise<UsageRow[]> {
    const rows = await this.store.rows(by, datesBetween(from, to));
    return by === 'user' ? rows.map((r) => ({ ...r, name: userIdOf(r.name) })) : rows;
  }

  /** Every key held, with when it was last used and its calls today; never key material. */
  async keyUsage(): Promise<KeyUsage[]> {
    const today = utcDate(new Date());
    const [lastUsed, rows] = await Promise.all([
      this.store.lastUsed(),
      this.store.rows('key', [today]),
    ]);
    const callsToday = new Map(rows.map((r) => [r.name, r.calls]));
    return this.keys.views().map((key) => {
      const used = lastUsed.get(key.fingerprint);
      const pausedUntil = this.pauses.pausedUntil(key.fingerprint);
      return {
        fingerprint: key.fingerprint,
        use: key.use,
        source: key.source,
        loadedAt: key.loadedAt.toISOString(),
        lastUsedAt: used === undefined ? null : new Date(used).toISOString(),
        callsToday: callsToday.get(key.fingerprint) ?? 0,
        pausedUntil: pausedUntil === undefined ? null : new Date(pausedUntil).toISOString(),
      };
    });
  }
}
