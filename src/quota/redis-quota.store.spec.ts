import { randomUUID } from 'node:crypto';
import { quotasSchema } from '../config/quotas';
import type { RedisClient } from '../redis/redis-client';
import { connectRedis, spawnRedis, type SpawnedRedis } from '../../test/support/redis';
import { quotasFor } from './quota-plan';
import { RedisQuotaStore } from './redis-quota.store';

const NOW = new Date('2026-12-07T10:00:00Z');

describe('RedisQuotaStore', () => {
  const prefix = `gbff:q:test-${randomUUID()}:`;
  let redis: SpawnedRedis;
  let client: RedisClient;

  beforeAll(async () => {
    redis = await spawnRedis();
    client = await connectRedis(redis.url);
  });
  afterAll(async () => {
    client.destroy();
    await redis.stop();
  });

  it('exactly N of many concurrent calls are counted, refusals are not', async () => {
    const store = new RedisQuotaStore(client, false, prefix);
    const quotas = quotasFor(quotasSchema.parse({ user: { day: 5 } }), 'local:ada', 'red', NOW);
    const takes = await Promise.all(Array.from({ length: 40 }, () => store.take(quotas)));
    expect(takes.filter((t) => t.refused === undefined)).toHaveLength(5);
    expect((await store.read(quotas))[0]?.used).toBe(5);
  });

  it('on a Cluster, a team refusal gives back what the user side counted; keys carry the owner in a hash tag', async () => {
    // The store itself does not ask the topology: a plain server runs the Cluster's two steps too.
    const store = new RedisQuotaStore(client, true, prefix);
    const config = quotasSchema.parse({ user: { day: 10 }, team: { day: 2 } });
    const bob = quotasFor(config, 'local:bob', 'blue', NOW);
    const carol = quotasFor(config, 'oidc:carol', 'blue', NOW);
    expect((await store.take(bob)).refused).toBeUndefined();
    expect((await store.take(carol)).refused).toBeUndefined();
    expect((await store.take(bob)).refused?.name).toBe('team-day');
    await new Promise((r) => setTimeout(r, 50));
    expect((await store.read(bob)).map((u) => u.used)).toEqual([1, 2]);
    const keys = await client.keys(`${prefix}*`);
    expect(
      keys.every((k) => /^gbff:q:test-[^{]+\{[ut]:[A-Za-z0-9_-]+\}:day:2026-12-07$/.test(k)),
    ).toBe(true);
    const expiry = await client.expireTime(keys[0]!);
    expect(expiry).toBe(Date.parse('2026-12-08T00:00:00Z') / 1000 + 3600);
  });
});
