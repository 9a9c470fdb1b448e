import { LRUCache } from 'lru-cache';
import {
  RateLimitStore,
  windowRecord,
  type CallTally,
  type CapCount,
  type CapsTally,
  type ThrottlerStorageRecord,
  type WindowCount,
} from './rate-limit.store';

interface Window {
  hits: number;
  expiresAt: number;
}

/**
 * Counters for a single instance. Bounded by entry count, not by time: no timer per key and no
 * sweep; once full, the least recently used counter goes, so memory levels off however many
 * users or addresses appear (windows and caps each in a bound of their own, so a flood of
 * short windows never pushes a month's quota out). Check-and-count is synchronous, hence atomic
 * within the process.
 */
export class MemoryRateLimitStore extends RateLimitStore {
  private readonly windows: LRUCache<string, Window>;
  private readonly caps: LRUCache<string, number>;

  constructor(maxKeys: number) {
    super();
    this.windows = new LRUCache({ max: maxKeys });
    this.caps = new LRUCache({ max: maxKeys });
  }

  /** Counters held now (for tests and metrics). */
  get size(): number {
    return this.windows.size + this.caps.size;
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  countCall(windows: readonly WindowCount[], caps: readonly CapCount[]): Promise<CallTally> {
    const now = Date.now();
    const records: ThrottlerStorageRecord[] = [];
    for (const counted of windows) {
      const record = this.hit(counted, now);
      records.push(record);
      if (record.isBlocked) return Promise.resolve({ windows: records, caps: undefined });
    }
    return Promise.resolve({
      windows: records,
      caps: caps.length === 0 ? undefined : this.take(caps, now),
    });
  }

  readCaps(keys: readonly string[]): Promise<number[]> {
    return Promise.resolve(keys.map((key) => this.caps.get(key) ?? 0));
  }

  uncountCaps(keys: readonly string[]): void {
    for (const key of keys) {
      const used = this.caps.get(key);
      if (used !== undefined && used > 0) this.caps.set(key, used - 1, { noUpdateTTL: true });
    }
  }

  private hit({ key, ttl, limit }: WindowCount, now: number): ThrottlerStorageRecord {
    let window = this.windows.get(key);
    if (window === undefined || window.expiresAt <= now) {
      window = { hits: 0, expiresAt: now + ttl };
      this.windows.set(key, window);
    }
    window.hits += 1;
    return windowRecord(window.hits, window.expiresAt - now, limit);
  }

  private take(caps: readonly CapCount[], now: number): CapsTally {
    const used = caps.map((cap) => this.caps.get(cap.key) ?? 0);
    const refusedAt = caps.findIndex((cap, i) => used[i]! >= cap.limit);
    if (refusedAt !== -1) return { used, refusedAt };
    caps.forEach((cap, i) => {
      this.caps.set(cap.key, used[i]! + 1, { ttl: Math.max(1, cap.expiresAt - now) });
    });
    return { used: used.map((n) => n + 1), refusedAt: undefined };
  }
}
