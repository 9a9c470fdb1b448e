import { LRUCache } from 'lru-cache';
import { RateLimitStore, windowRecord, type ThrottlerStorageRecord } from './rate-limit.store';

interface Window {
  hits: number;
  expiresAt: number;
}

/**
 * Counters for a single instance. Bounded by entry count, not by time: no timer per key and no
 * sweep; once full, the least recently used counter goes, so memory levels off however many
 * users or addresses appear. Check-and-count is synchronous, hence atomic within the process.
 */
export class MemoryRateLimitStore extends RateLimitStore {
  private readonly windows: LRUCache<string, Window>;

  constructor(maxKeys: number) {
    super();
    this.windows = new LRUCache({ max: maxKeys });
  }

  /** Counters held now (for tests and metrics). */
  get size(): number {
    return this.windows.size;
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const now = Date.now();
    let window = this.windows.get(key);
    if (window === undefined || window.expiresAt <= now) {
      window = { hits: 0, expiresAt: now + ttl };
      this.windows.set(key, window);
    }
    window.hits += 1;
    return Promise.resolve(windowRecord(window.hits, window.expiresAt - now, limit));
  }
}
