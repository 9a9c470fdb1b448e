import { Logger } from '@nestjs/common';
import { createClient } from 'redis';
import { createRedisClient, type RedisClient } from '../redis/redis-client';
import { spawnRedis, type SpawnedRedis } from '../../test/support/redis';
import { until } from '../../test/support/until';
import { RedisRateLimitStore } from './redis-rate-limit.store';
import { describeCallCounting } from '../../test/support/counting-contract';

const quiet = new Logger('test');
beforeAll(() => {
  Logger.overrideLogger(false);
});

/** Resolves with the store's answer once it answers again, or fails after the deadline. */
async function untilAnswers(store: RedisRateLimitStore, key: string, deadlineMs = 15_000) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await store.increment(key, 60_000, 5);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('RedisRateLimitStore on a Redis of its own', () => {
  const prefix = 'gbff:rl:test:';
  let redis: SpawnedRedis;
  let client: RedisClient;
  let store: RedisRateLimitStore;

  beforeAll(async () => {
    redis = await spawnRedis();
    client = createRedisClient(redis.url, quiet);
    await client.connect();
    store = new RedisRateLimitStore(client, prefix);
  });
  afterAll(async () => {
    await client.close();
    await redis.stop();
  });

  it('lets exactly the limit through when 200 increments of one key race', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, () => store.increment('race', 60_000, 5)),
    );
    expect(results.filter((r) => !r.isBlocked)).toHaveLength(5);
    expect(results.map((r) => r.totalHits).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
  });

  it('lets exactly the limit through across two connections (two replicas)', async () => {
    const other = createRedisClient(redis.url, quiet);
    await other.connect();
    try {
      const second = new RedisRateLimitStore(other, prefix);
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          (i % 2 === 0 ? store : second).increment('replicas', 60_000, 5),
        ),
      );
      expect(results.filter((r) => !r.isBlocked)).toHaveLength(5);
    } finally {
      await other.close();
    }
  });

  it('stores counters under its prefix with the window as expiry', async () => {
    const first = await store.increment('ttl', 30_000, 5);
    expect(first).toEqual({
      totalHits: 1,
      timeToExpire: 30,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
    const pttl = await client.pTTL(`${prefix}ttl`);
    expect(pttl).toBeGreaterThan(25_000);
    expect(pttl).toBeLessThanOrEqual(30_000);
  });

  it('reports a blocked hit with the rest of the window to wait', async () => {
    for (let i = 0; i < 2; i++) await store.increment('blocked', 20_000, 2);
    const third = await store.increment('blocked', 20_000, 2);
    expect(third.isBlocked).toBe(true);
    expect(third.timeToBlockExpire).toBe(third.timeToExpire);
    expect(third.timeToExpire).toBeGreaterThan(0);
    expect(third.timeToExpire).toBeLessThanOrEqual(20);
  });

  it('opens a new window once the old one expired', async () => {
    // A 1 s window: the second hit lands in it however busy the machine is.
    await store.increment('short', 1000, 1);
    expect((await store.increment('short', 1000, 1)).isBlocked).toBe(true);
    await until(async () => (await client.exists(`${prefix}short`)) === 0);
    expect(await store.increment('short', 1000, 1)).toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
  });

  describeCallCounting('RedisRateLimitStore', () => store);

  it('keeps a cap an hour past its period, under the quota prefix', async () => {
    const end = (Math.ceil(Date.now() / 1000) + 86_400) * 1000;
    await store.countCall([], [{ key: '{u:x}:user-day:y:d', limit: 5, expiresAt: end }]);
    expect(await client.expireTime('gbff:q:{u:x}:user-day:y:d')).toBe(end / 1000 + 3600);
  });
});

describe('RedisRateLimitStore when Redis goes away', () => {
  let redis: SpawnedRedis;
  let client: RedisClient;
  let store: RedisRateLimitStore;

  beforeAll(async () => {
    redis = await spawnRedis();
    client = createRedisClient(redis.url, quiet);
    await client.connect();
    store = new RedisRateLimitStore(client);
  });
  afterAll(async () => {
    client.destroy();
    await redis.stop();
  });

  it('rejects within seconds while down and counts again after a restart', async () => {
    expect((await store.increment('k', 60_000, 5)).totalHits).toBe(1);
    await redis.stop();
    await expect(store.increment('k', 60_000, 5)).rejects.toThrow();
    await redis.start();
    // A new, empty server: the script is loaded again and the count starts over.
    expect(await untilAnswers(store, 'k')).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('gives up at the deadline when Redis stops answering, and counts again once it does', async () => {
    expect((await store.increment('frozen', 60_000, 5)).totalHits).toBe(1);
    redis.pause();
    try {
      // The client's own timeout ends once a command is written: without the store's deadline
      // this would hang until Jest's timeout fails the test.
      await expect(store.increment('frozen', 60_000, 5)).rejects.toThrow(/did not answer/);
      await expect(store.ping()).rejects.toThrow(/did not answer/);
    } finally {
      redis.resume();
    }
    // The late reply was read in order: the next count sees both earlier hits.
    expect((await store.increment('frozen', 60_000, 5)).totalHits).toBe(3);
  });

  it('reloads its script when the server forgot it', async () => {
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      await store.increment('script', 60_000, 5);
      await admin.scriptFlush();
      expect((await store.increment('script', 60_000, 5)).totalHits).toBe(2);
    } finally {
      admin.destroy();
    }
  });
});
