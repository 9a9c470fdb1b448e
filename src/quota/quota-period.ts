/** One period a quota counts in: its id names the counter, `end` is when it renews. */
export interface QuotaPeriod {
  /** `day` or `month`. */
  readonly kind: PeriodKind;
  /** The UTC date it starts on, `YYYY-MM-DD`: with the kind, names its counter. */
  readonly id: string;
  readonly start: Date;
  readonly end: Date;
}

export type PeriodKind = 'day' | 'month';

export const PERIOD_KINDS: readonly PeriodKind[] = ['day', 'month'];

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of the UTC day `at` falls on. */
export function utcDate(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** The UTC calendar day holding `now`. */
export function dayPeriod(now: Date): QuotaPeriod {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  return { kind: 'day', id: utcDate(start), start, end: new Date(start.getTime() + DAY_MS) };
}

/**
 * The month holding `now`: from `startDay` (1–28, so every month has it) at UTC midnight to the
 * same day of the next month (docs/configuration.md, "Quotas").
 */
export function monthPeriod(now: Date, startDay: number): QuotaPeriod {
  let year = now.getUTCFullYear();
  let month = now.getUTCMonth();
  if (now.getUTCDate() < startDay) month -= 1;
  if (month < 0) {
    month = 11;
    year -= 1;
  }
  const start = new Date(Date.UTC(year, month, startDay));
  const end = new Date(Date.UTC(year, month + 1, startDay));
  return { kind: 'month', id: utcDate(start), start, end };
}

/** The periods last asked for, by kind and month start day: every call of a day asks for the same. */
const recent = new Map<number, QuotaPeriod>();

/**
 * The period of `kind` holding `now`. Remembered while it lasts, so that the proxied path does not
 * build dates and their names on every call (0 stands for the day, 1–28 for a month's start).
 */
export function periodOf(kind: PeriodKind, now: Date, monthStartDay: number): QuotaPeriod {
  const slot = kind === 'day' ? 0 : monthStartDay;
  const at = now.getTime();
  const known = recent.get(slot);
  if (known !== undefined && known.start.getTime() <= at && at < known.end.getTime()) return known;
  const period = kind === 'day' ? dayPeriod(now) : monthPeriod(now, monthStartDay);
  recent.set(slot, period);
  return period;
}

/** The period's length in whole seconds (a RateLimit-Policy item's `w`). */
export function periodSeconds(period: QuotaPeriod): number {
  return Math.round((period.end.getTime() - period.start.getTime()) / 1000);
}

/** Whole seconds from `now` until the period renews, at least 1 (Retry-After, `t`). */
export function secondsUntilEnd(period: QuotaPeriod, now: Date): number {
  return Math.max(1, Math.ceil((period.end.getTime() - now.getTime()) / 1000));
}
