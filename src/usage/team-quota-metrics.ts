import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import type { QuotasConfig } from '../config/quotas';
import { Metrics } from '../observability/metrics.service';
import { ProxyQuota } from '../quota/proxy-quota';
import { dayPeriod } from '../quota/quota-period';
import { UsageStore } from './usage.store';

/** The most teams the gauge shows: team names may come from users' claims, so they are capped. */
export const TEAM_QUOTA_SERIES_MAX = 100;

const DAY_MS = 86_400_000;

/**
 * Feeds `bff_team_month_quota_used_ratio` at scrape time (docs/operations.md#metrics), never per
 * request. The teams shown: those `quotas.teams` gives a monthly quota, then, when the team
 * default has one, the teams with calls yesterday or today (UTC, from the usage store), most
 * calls first; at most TEAM_QUOTA_SERIES_MAX in all. Their counters are read where quotas count.
 */
@Injectable()
export class TeamQuotaMetrics {
  private readonly config: QuotasConfig;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(ProxyQuota) private readonly quotas: ProxyQuota,
    @Inject(UsageStore) private readonly usage: UsageStore,
    @Inject(Metrics) metrics: Metrics,
  ) {
    this.config = config.get('quotas', { infer: true });
    const monthly = Object.values(this.config.teams).some((team) => team.month !== undefined);
    if (monthly || this.config.team.month !== undefined) {
      metrics.readTeamQuotasFrom(() => this.read());
    }
  }

  /** Each shown team and the share of its month's quota used (a quota of 0 counts as used up). */
  async read(): Promise<[string, number][]> {
    const uses = await this.quotas.teamMonthUses(await this.teams(new Date()));
    return uses.map(({ quota, used }) => [quota.owner, quota.limit === 0 ? 1 : used / quota.limit]);
  }

  private async teams(now: Date): Promise<string[]> {
    const teams = new Set(
      Object.entries(this.config.teams)
        .filter(([, periods]) => periods.month !== undefined)
        .map(([team]) => team),
    );
    if (this.config.team.month !== undefined) {
      const dates = [dayPeriod(new Date(now.getTime() - DAY_MS)).id, dayPeriod(now).id];
      const rows = await this.usage.rows('team', dates);
      const calls = new Map<string, number>();
      for (const row of rows) calls.set(row.name, (calls.get(row.name) ?? 0) + row.calls);
      for (const [team] of [...calls].sort((a, b) => b[1] - a[1])) teams.add(team);
    }
    return [...teams].slice(0, TEAM_QUOTA_SERIES_MAX);
  }
}
