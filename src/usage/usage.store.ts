/** What a day's usage holds for one name. */
export interface UsageCounts {
  calls: number;
  errors: number;
  throttled: number;
}

export type UsageField = keyof UsageCounts;
export const USAGE_FIELDS: readonly UsageField[] = ['calls', 'errors', 'throttled'];

/** The ways usage is broken down: by user id, by team, by key fingerprint. */
export type UsageDimension = 'user' | 'team' | 'key';
export const USAGE_DIMENSIONS: readonly UsageDimension[] = ['user', 'team', 'key'];

/** One increment of a flush: `by` `name` on `date` gets `count` more `field`. */
export interface UsageIncrement {
  readonly date: string;
  readonly by: UsageDimension;
  readonly name: string;
  readonly field: UsageField;
  readonly count: number;
}

/** One row of GET /admin/usage. */
export interface UsageRow extends UsageCounts {
  readonly name: string;
  readonly date: string;
}

/**
 * Where daily usage counts live, shared by every replica with Redis, in memory otherwise: per
 * UTC date and dimension, a counter per name and field, kept USAGE_RETENTION_DAYS. Written only
 * by the recorder's flush, never on a request's path (docs/capacity.md, "Usage").
 */
export abstract class UsageStore {
  /** Adds a flush's increments, and when each key was last used (ms), in one batch. */
  abstract add(
    increments: readonly UsageIncrement[],
    lastUsed: ReadonlyMap<string, number>,
  ): Promise<void>;

  /** Every name with a count on each of `dates`, by `by`. */
  abstract rows(by: UsageDimension, dates: readonly string[]): Promise<UsageRow[]>;

  /** The calls of `name` by `by` over `dates`, summed (GET /auth/usage). */
  abstract total(by: UsageDimension, name: string, dates: readonly string[]): Promise<number>;

  /** When each key fingerprint was last used (ms since the epoch), as far as flushed. */
  abstract lastUsed(): Promise<Map<string, number>>;
}

/** Sorted by date, then name (GET /admin/usage). */
export function sortRows(rows: UsageRow[]): UsageRow[] {
  return rows.sort((a, b) =>
    a.date === b.date ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.date < b.date ? -1 : 1,
  );
}
