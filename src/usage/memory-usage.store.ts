import { utcDate } from '../quota/quota-period';
import {
  sortRows,
  UsageStore,
  type UsageCounts,
  type UsageDimension,
  type UsageIncrement,
  type UsageRow,
} from './usage.store';

const DAY_MS = 86_400_000;

/**
 * Usage of a single instance: date → dimension → name → counts. Days past the retention are
 * dropped at each flush; what is left is bounded by the names that call in that many days.
 */
export class MemoryUsageStore extends UsageStore {
  private readonly days = new Map<string, Map<UsageDimension, Map<string, UsageCounts>>>();
  private readonly keysLastUsed = new Map<string, number>();

  constructor(private readonly retentionDays: number) {
    super();
  }

  add(increments: readonly UsageIncrement[], lastUsed: ReadonlyMap<string, number>): Promise<void> {
    for (const { date, by, name, field, count } of increments) {
      let day = this.days.get(date);
      if (day === undefined)
        this.days.set(date, (day = new Map<UsageDimension, Map<string, UsageCounts>>()));
      let names = day.get(by);
      if (names === undefined) day.set(by, (names = new Map<string, UsageCounts>()));
      let counts = names.get(name);
      if (counts === undefined) names.set(name, (counts = { calls: 0, errors: 0, throttled: 0 }));
      counts[field] += count;
    }
    for (const [fingerprint, at] of lastUsed) {
      this.keysLastUsed.set(fingerprint, Math.max(at, this.keysLastUsed.get(fingerprint) ?? 0));
    }
    const oldest = utcDate(new Date(Date.now() - (this.retentionDays - 1) * DAY_MS));
    for (const date of this.days.keys()) if (date < oldest) this.days.delete(date);
    return Promise.resolve();
  }

  rows(by: UsageDimension, dates: readonly string[]): Promise<UsageRow[]> {
    const rows: UsageRow[] = [];
    for (const date of dates) {
      for (const [name, counts] of this.days.get(date)?.get(by) ?? []) {
        rows.push({ name, date, ...counts });
      }
    }
    return Promise.resolve(sortRows(rows));
  }

  total(by: UsageDimension, name: string, dates: readonly string[]): Promise<number> {
    let sum = 0;
    for (const date of dates) sum += this.days.get(date)?.get(by)?.get(name)?.calls ?? 0;
    return Promise.resolve(sum);
  }

  lastUsed(): Promise<Map<string, number>> {
    return Promise.resolve(new Map(this.keysLastUsed));
  }
}
