import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeGather, type FakeGather } from '../fakes/fake-gather';
import type { RedisClient } from '../../src/redis/redis-client';
import { connectRedis, spawnSentinel, type SpawnedSentinel } from '../support/redis';
import { signIn, writeUsersFile } from '../support/session';
import { sidOf, spaRequest, until } from '../support/spa';
import { startTestApp, type TestApp } from '../support/start-app';

const ADA = {
  username: 'ada',
  password: 'correct horse battery',
  name: 'Ada Lovelace',
  email: 'ada@example.test',
};

/** The contract: a failover is followed within 15 s of Sentinel switching master. */
const FOLLOW_WITHIN_MS = 15_000;
/** Spawning the topology and waiting for Sentinel to vouch for the replica takes a while. */
jest.setTimeout(180_000);

const me = (t: TestApp, cookie: string) => spaRequest(t, '/auth/me', { cookie });
const proxied = (t: TestApp, cookie: string) => spaRequest(t, '/api/gather/questions', { cookie });

/** Proxied requests one after another until stopped, each status noted (0: no answer). */
function keepRequesting(t: TestApp, cookie: string) {
  const statuses: number[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const res = await proxied(t, cookie).catch(() => undefined);
      statuses.push(res?.status ?? 0);
      await res?.body?.cancel();
      await sleep(50);
    }
  })();
  return {
    statuses,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

describe('Redis Sentinel (REDIS_SENTINELS, REDIS_SENTINEL_MASTER, REDIS_PASSWORD)', () => {
  let fake: FakeGather;
  let topology: SpawnedSentinel;
  let t: TestApp;
  let admin: RedisClient | undefined;

  beforeAll(async () => {
    fake = await startFakeGather();
    topology = await spawnSentinel();
    t = await startTestApp({
      REDIS_SENTINELS: topology.sentinels,
      REDIS_SENTINEL_MASTER: topology.masterName,
      REDIS_PASSWORD: topology.password,
      GATHER_BASE_URL: fake.baseUrl,
      AUTH_LOCAL_USERS_FILE: await writeUsersFile([ADA]),
      RATE_LIMIT_LOGIN_LIMIT: '1000',
      RATE_LIMIT_USER_LIMIT: '100000',
    });
    // Start-up does not wait for Redis: ready once the client found the master.
    await until(async () => (await fetch(`${t.url}/readyz`)).status === 200, 30_000, 100);
  });
  afterAll(async () => {
    admin?.destroy();
    await t?.close();
    await topology?.stop();
    await fake?.close();
  });

  it('keeps a signed-in session through a forced failover under traffic, without a restart', async () => {
    const cookie = await signIn(t, ADA.username, ADA.password);
    expect((await proxied(t, cookie)).status).toBe(200);
    // Sentinel replication is asynchronous: a session is safe once the replica has it.
    await topology.replicated();
    const oldMaster = await topology.masterPort();

    const traffic = keepRequesting(t, cookie);
    let newMaster: number;
    try {
      newMaster = await topology.failover();
      expect(newMaster).not.toBe(oldMaster);
      const onNewMaster = (admin = await connectRedis(
        `redis://:${topology.password}@127.0.0.1:${newMaster}`,
      ));
      // Measured from the switch as Sentinel reports it. The old master takes writes until
      // Sentinel demotes it, so what counts is a write reaching the new one.
      await until(
        async () => {
          const fresh = await signIn(t, ADA.username, ADA.password).catch(() => undefined);
          return (
            fresh !== undefined && (await onNewMaster.exists(`gbff:sess:${sidOf(fresh)}`)) === 1
          );
        },
        FOLLOW_WITHIN_MS,
        100,
      );
      // Followed for good: the next requests of the traffic all pass.
      const n = traffic.statuses.length;
      await until(() => traffic.statuses.length >= n + 5, 30_000);
      expect(traffic.statuses.slice(n, n + 5)).toEqual([200, 200, 200, 200, 200]);
    } finally {
      await traffic.stop();
    }
    // During the switch a request may be refused (503), but the session is never lost (401).
    expect(traffic.statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);

    const res = await me(t, cookie);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { user: { id: string } }).user.id).toBe('ada');
    expect(await admin.exists(`gbff:sess:${sidOf(cookie)}`)).toBe(1);
    // A logout now ends, on the new master, the session signed in before the failover.
    expect((await spaRequest(t, '/auth/logout', { method: 'POST', cookie })).status).toBe(200);
    expect(await admin.exists(`gbff:sess:${sidOf(cookie)}`)).toBe(0);
    expect((await me(t, cookie)).status).toBe(401);
    const logs = t.logs();
    expect(logs).toContain(
      `"msg":"Redis ready at Sentinel master ${topology.masterName} via ${topology.sentinels}"`,
    );
    expect(logs).toContain(
      `"msg":"Redis Sentinel master ${topology.masterName} switched to 127.0.0.1:${newMaster}"`,
    );
    expect(logs).not.toContain(topology.password);
  });
});
