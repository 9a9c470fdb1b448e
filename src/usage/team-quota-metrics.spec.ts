import { Metrics } from '../observability/metrics.service';
import { dayPeriod } from '../quota/quota-period';
import { MemoryRateLimitStore } from '../rate-limit/memory-rate-limit.store';
import { quotaCounting } from '../../test/support/quota-counting';
import { MemoryUsageStore } from './memory-usage.store';
import { TEAM_QUOTA_SERIES_MAX, TeamQuotaMetrics } from './team-quota-metrics';

/** The gauge's series as `team ratio` lines. */
async function gauge(metrics: Metrics): Promise<string[]> {
  const text = await metrics.text();
  return [...text.matchAll(/^bff_team_month_quota_used_ratio\{team="([^"]+)"\} (\S+)$/gm)].map(
    (m) => `${m[1]} ${m[2]}`,
  );
}

function build(quotas: unknown) {
  const { config, limits, quota, metrics } = quotaCounting(
    new MemoryRateLimitStore(10_000),
    quotas,
  );
  const usage = new MemoryUsageStore(90);
  new TeamQuotaMetrics(config, quota, usage, metrics);
  /** `calls` calls of a member of `team`, counted where quotas count and in today's usage. */
  const use = async (team: string, calls: number): Promise<void> => {
    const member = { principal: `local:${team}-member`, team } as const;
    for (let i = 0; i < calls; i++) await limits.count({}, member, 'GET', '/v1/x').catch(() => {});
    const date = dayPeriod(new Date()).id;
    await usage.add([{ date, by: 'team', name: team, field: 'calls', count: calls }], new Map());
  };
  return { metrics, use };
}

describe('TeamQuotaMetrics', () => {
  it('shows the teams with a monthly quota of their own, used or not, as a share of it', async () => {
    const { metrics, use } = build({ teams: { red: { month: 10 }, blue: { month: 0 } } });
    await use('red', 9);
    // No team default: a team without its own monthly quota has none to show.
    await use('green', 5);
    expect(await gauge(metrics)).toEqual(['red 0.9', 'blue 1']);
  });

  it('with a team default, adds the teams that called today, busiest first, capped', async () => {
    const { metrics, use } = build({ team: { month: 1000 }, teams: { red: { day: 5 } } });
    for (let i = 0; i < TEAM_QUOTA_SERIES_MAX + 20; i++) await use(`team-${i}`, i + 1);
    const shown = await gauge(metrics);
    expect(shown).toHaveLength(TEAM_QUOTA_SERIES_MAX);
    const busiest = TEAM_QUOTA_SERIES_MAX + 20;
    expect(shown[0]).toBe(`team-${busiest - 1} ${busiest / 1000}`);
    // red has no monthly quota of its own and no calls; team-0 is among the quietest.
    expect(shown.some((line) => /^(red|team-0) /.test(line))).toBe(false);
  });

  it('registers no reader when no team has a monthly quota', async () => {
    const { metrics, use } = build({ user: { month: 5 }, team: { day: 5 } });
    await use('red', 3);
    expect(await gauge(metrics)).toEqual([]);
  });
});
