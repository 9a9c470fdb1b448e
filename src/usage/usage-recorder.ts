import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { dayPeriod } from '../quota/quota-period';
import type { Principal } from '../session/principal';
import { UsageStore, type UsageField, type UsageIncrement } from './usage.store';

/** How often each replica writes what it counted. */
export const USAGE_FLUSH_MS = 1000;
const LOG_EVERY_MS = 10_000;

/** What became of one proxied request, for its usage. */
export type UsageOutcome = 'forwarded' | 'failed' | 'throttled';

const FIELDS: Record<UsageOutcome, readonly UsageField[]> = {
  forwarded: ['calls'],
  failed: ['calls', 'errors'],
  throttled: ['throttled'],
};

interface LatestEntry {
  readonly day: string;
  readonly team: string | undefined;
  readonly fingerprint: string | undefined;
  readonly outcome: UsageOutcome;
  readonly entry: string;
}

/**
 * Counts usage off the request path (docs/capacity.md, "Usage"): a request's end adds one to an
 * in-memory map entry (its date, user, team, key and outcome together, so one increment per
 * call); once a second the map is swapped for an empty one and written to the store in one
 * batch. Counts of a flush the store refuses are dropped and logged; no request waits for them.
 */
@Injectable()
export class UsageRecorder implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Usage');
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private lastLogAt = 0;
  private droppedSinceLog = 0;
  /** Today's UTC date and when it ends: named once a day, not formatted on every call. */
  private today = { id: '', endsAt: 0 };
  /**
   * Each principal's latest entry since the last flush: a user's calls nearly always repeat it,
   * and reusing the string (its hash already computed) spares building and hashing a new one.
   */
  private latest = new Map<Principal, LatestEntry>();

  constructor(@Inject(UsageStore) private readonly store: UsageStore) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), USAGE_FLUSH_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** One request's end: O(1), no I/O. */
  record(
    outcome: UsageOutcome,
    principal: Principal,
    team: string | undefined,
    fingerprint: string | undefined,
  ): void {
    const day = this.todayId();
    let latest = this.latest.get(principal);
    if (
      latest === undefined ||
      latest.day !== day ||
      latest.team !== team ||
      latest.fingerprint !== fingerprint ||
      latest.outcome !== outcome
    ) {
      const entry = `${day}\t${principal}\t${team ?? ''}\t${fingerprint ?? ''}\t${outcome}`;
      latest = { day, team, fingerprint, outcome, entry };
      this.latest.set(principal, latest);
    }
    this.pending.set(latest.entry, (this.pending.get(latest.entry) ?? 0) + 1);
  }

  private todayId(): string {
    const now = Date.now();
    if (now >= this.today.endsAt) {
      const day = dayPeriod(new Date(now));
      this.today = { id: day.id, endsAt: day.end.getTime() };
    }
    return this.today.id;
  }

  /** Writes what was counted since the last flush. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    // Bounded by the principals of one flush interval.
    this.latest = new Map();
    const increments: UsageIncrement[] = [];
    const lastUsed = new Map<string, number>();
    const now = Date.now();
    for (const [entry, count] of batch) {
      const [date, principal, team, fingerprint, outcome] = entry.split('\t') as [
        string,
        string,
        string,
        string,
        UsageOutcome,
      ];
      for (const field of FIELDS[outcome]) {
        increments.push({ date, by: 'user', name: principal, field, count });
        if (team !== '') increments.push({ date, by: 'team', name: team, field, count });
        if (fingerprint !== '')
          increments.push({ date, by: 'key', name: fingerprint, field, count });
      }
      if (fingerprint !== '' && outcome !== 'throttled') lastUsed.set(fingerprint, now);
    }
    try {
      await this.store.add(increments, lastUsed);
    } catch (err) {
      this.dropped(err, batch.size);
    }
  }

  /** One line per interval while the store is down, not one per flush. */
  private dropped(err: unknown, entries: number): void {
    this.droppedSinceLog += entries;
    const now = Date.now();
    if (now - this.lastLogAt < LOG_EVERY_MS) return;
    this.logger.warn(
      `Usage store unavailable (${err instanceof Error ? err.message : String(err)}); ` +
        `${this.droppedSinceLog} usage count(s) dropped`,
    );
    this.lastLogAt = now;
    this.droppedSinceLog = 0;
  }
}
