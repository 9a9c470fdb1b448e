import type { QuotaPeriods, QuotasConfig } from '../config/quotas';
import type { Principal } from '../session/principal';
import { PERIOD_KINDS, periodOf, type PeriodKind, type QuotaPeriod } from './quota-period';

/** Whose budget a quota is: the user's own, or their whole team's. */
export type QuotaScope = 'user' | 'team';

/** The quotas' names as the error's `details.quota` and the RateLimit items give them. */
export type QuotaName = `${QuotaScope}-${PeriodKind}`;

/** One quota that applies to a call, in the period that holds the call. */
export interface AppliedQuota {
  readonly name: QuotaName;
  readonly scope: QuotaScope;
  /** The principal, or the team: whose counter it is. */
  readonly owner: string;
  readonly limit: number;
  readonly period: QuotaPeriod;
}

/** How much of a quota is used, including the call just counted. */
export interface QuotaUse {
  readonly quota: AppliedQuota;
  readonly used: number;
}

/** The principal's user id as /auth/me shows it: what `quotas.users` names. */
function userIdOf(principal: Principal): string {
  return principal.slice(principal.indexOf(':') + 1);
}

/**
 * The quotas that apply to `principal` (of `team`, if any) at `now`. An entry under `users`
 * names a user id as /auth/me shows it, so `alice` applies to `local:alice` and `oidc:alice`
 * alike, each with counters of their own; it replaces the user default for the periods it
 * gives. The same holds for `teams` against the team default.
 */
export function quotasFor(
  config: QuotasConfig,
  principal: Principal,
  team: string | undefined,
  now: Date,
): AppliedQuota[] {
  const applied: AppliedQuota[] = [];
  const add = (scope: QuotaScope, owner: string, periods: QuotaPeriods): void => {
    for (const kind of PERIOD_KINDS) {
      const limit = periods[kind];
      if (limit === undefined) continue;
      applied.push({
        name: `${scope}-${kind}`,
        scope,
        owner,
        limit,
        period: periodOf(kind, now, config.monthStartDay),
      });
    }
  };
  add('user', principal, { ...config.user, ...config.users[userIdOf(principal)] });
  if (team !== undefined) add('team', team, { ...config.team, ...config.teams[team] });
  return applied;
}

/** The monthly quota of `team` at `now`: its own entry under `teams`, else the team default. */
export function teamMonthQuota(
  config: QuotasConfig,
  team: string,
  now: Date,
): AppliedQuota | undefined {
  const month = { ...config.team, ...config.teams[team] }.month;
  if (month === undefined) return undefined;
  return {
    name: 'team-month',
    scope: 'team',
    owner: team,
    limit: month,
    period: periodOf('month', now, config.monthStartDay),
  };
}

/** Whether any quota is configured at all: without one the proxied path skips the check. */
export function hasQuotas(config: QuotasConfig): boolean {
  const any = (p: QuotaPeriods): boolean => p.day !== undefined || p.month !== undefined;
  return (
    any(config.user) ||
    any(config.team) ||
    Object.values(config.users).some(any) ||
    Object.values(config.teams).some(any)
  );
}
