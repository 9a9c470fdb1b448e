import { quotasSchema } from '../config/quotas';
import { hasQuotas, quotasFor, teamMonthQuota } from './quota-plan';

const NOW = new Date('2026-12-07T10:00:00Z');
const summary = (config: unknown, principal: `local:${string}` | `oidc:${string}`, team?: string) =>
  quotasFor(quotasSchema.parse(config), principal, team, NOW).map((q) => [
    q.name,
    q.owner,
    q.limit,
    q.period.id,
  ]);

describe('quotasFor', () => {
  it('applies the user and team defaults, each period on its own', () => {
    const config = { user: { day: 5, month: 100 }, team: { day: 50 }, monthStartDay: 3 };
    expect(summary(config, 'local:ada', 'red')).toEqual([
      ['user-day', 'local:ada', 5, '2026-12-07'],
      ['user-month', 'local:ada', 100, '2026-12-03'],
      ['team-day', 'red', 50, '2026-12-07'],
    ]);
    expect(summary(config, 'local:ada')).toEqual([
      ['user-day', 'local:ada', 5, '2026-12-07'],
      ['user-month', 'local:ada', 100, '2026-12-03'],
    ]);
  });

  it('an override replaces the default for the periods it gives, for local and OIDC users of that id apart', () => {
    const config = {
      user: { day: 5, month: 100 },
      users: { alice: { day: 1 } },
      teams: { red: { month: 7 } },
    };
    expect(summary(config, 'local:alice')).toEqual([
      ['user-day', 'local:alice', 1, '2026-12-07'],
      ['user-month', 'local:alice', 100, '2026-12-01'],
    ]);
    expect(summary(config, 'oidc:alice', 'red')).toEqual([
      ['user-day', 'oidc:alice', 1, '2026-12-07'],
      ['user-month', 'oidc:alice', 100, '2026-12-01'],
      ['team-month', 'red', 7, '2026-12-01'],
    ]);
    expect(summary(config, 'local:bob', 'blue')).toEqual([
      ['user-day', 'local:bob', 5, '2026-12-07'],
      ['user-month', 'local:bob', 100, '2026-12-01'],
    ]);
  });

  it('no quotas configured: none apply and the check is off', () => {
    expect(summary({}, 'local:ada', 'red')).toEqual([]);
    expect(hasQuotas(quotasSchema.parse({}))).toBe(false);
    expect(hasQuotas(quotasSchema.parse({ teams: { red: { day: 0 } } }))).toBe(true);
  });
});

describe('teamMonthQuota', () => {
  const month = (config: unknown, team: string) => {
    const quota = teamMonthQuota(quotasSchema.parse(config), team, NOW);
    return quota && [quota.name, quota.owner, quota.limit, quota.period.id];
  };

  it("is the team's own monthly quota, else the team default's, else none", () => {
    const config = { team: { month: 1000 }, teams: { red: { month: 7 }, blue: { day: 3 } } };
    expect(month(config, 'red')).toEqual(['team-month', 'red', 7, '2026-12-01']);
    expect(month(config, 'blue')).toEqual(['team-month', 'blue', 1000, '2026-12-01']);
    expect(month(config, 'constructor')).toEqual(['team-month', 'constructor', 1000, '2026-12-01']);
    expect(month({ teams: { red: { month: 7 } } }, 'blue')).toBeUndefined();
    expect(month({ team: { day: 5 }, monthStartDay: 10 }, 'red')).toBeUndefined();
    expect(month({ team: { month: 5 }, monthStartDay: 10 }, 'red')).toEqual([
      'team-month',
      'red',
      5,
      '2026-11-10',
    ]);
  });
});
