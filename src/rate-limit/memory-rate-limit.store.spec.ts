import { MemoryRateLimitStore } from './memory-rate-limit.store';
import { describeCallCounting } from '../../test/support/counting-contract';

describe('MemoryRateLimitStore', () => {
  afterEach(() => jest.useRealTimers());

  it('counts hits in a fixed window and blocks past the limit until the window ends', async () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const store = new MemoryRateLimitStore(100);
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(await store.increment('k', 60_000, 3));
    expect(seen.map((r) => r.totalHits)).toEqual([1, 2, 3, 4]);
    expect(seen.map((r) => r.isBlocked)).toEqual([false, false, false, true]);
    expect(seen[0]).toEqual({
      totalHits: 1,
      timeToExpire: 60,
      isBlocked: false,
      timeToBlockExpire: 0,
    });

    jest.advanceTimersByTime(45_500);
    expect(await store.increment('k', 60_000, 3)).toEqual({
      totalHits: 5,
      timeToExpire: 15,
      isBlocked: true,
      timeToBlockExpire: 15,
    });

    jest.advanceTimersByTime(14_500);
    const fresh = await store.increment('k', 60_000, 3);
    expect(fresh).toEqual({
      totalHits: 1,
      timeToExpire: 60,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
  });

  it('keeps keys apart', async () => {
    const store = new MemoryRateLimitStore(100);
    await store.increment('a', 1000, 1);
    expect((await store.increment('a', 1000, 1)).isBlocked).toBe(true);
    expect((await store.increment('b', 1000, 1)).isBlocked).toBe(false);
  });

  it('holds no more than its maximum however many distinct trackers appear', async () => {
    const store = new MemoryRateLimitStore(10_000);
    for (let i = 0; i < 100_000; i++) await store.increment(`user:${i}`, 60_000, 120);
    expect(store.size).toBe(10_000);
    // The most recent trackers are the ones kept.
    expect((await store.increment('user:99999', 60_000, 120)).totalHits).toBe(2);
    expect((await store.increment('user:0', 60_000, 120)).totalHits).toBe(1);
  });

  it('is exact under concurrent increments of one key', async () => {
    const store = new MemoryRateLimitStore(100);
    const results = await Promise.all(
      Array.from({ length: 200 }, () => store.increment('one', 60_000, 5)),
    );
    expect(results.filter((r) => !r.isBlocked)).toHaveLength(5);
  });
});

const shared = new MemoryRateLimitStore(1000);
describeCallCounting('MemoryRateLimitStore', () => shared);
