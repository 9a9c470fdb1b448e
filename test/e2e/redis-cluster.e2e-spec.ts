import { startFakeGather, type FakeGather } from '../fakes/fake-gather';
import { remainingOf } from '../support/rate-limit-fields';
import { spawnCluster, type SpawnedCluster } from '../support/redis';
import { signIn, writeUsersFile } from '../support/session';
import { spaRequest, until } from '../support/spa';
import { startTestApp, testEnv, type TestApp } from '../support/start-app';

const ADA = {
  username: 'ada',
  password: 'correct horse battery',
  name: 'Ada Lovelace',
  email: 'ada@example.test',
};
/** A user of its own for the rate limit, whose count no other test touches. */
const GRACE = {
  username: 'grace',
  password: 'another horse battery',
  name: 'Grace Hopper',
  email: 'grace@example.test',
};
const LIMIT = 6;

/** Spawning three nodes and letting them agree on the slots takes a while. */
jest.setTimeout(120_000);

const me = (t: TestApp, cookie: string) => spaRequest(t, '/auth/me', { cookie });
const proxied = (t: TestApp, cookie: string) => spaRequest(t, '/api/gather/questions', { cookie });

describe('Redis Cluster (REDIS_CLUSTER_NODES, REDIS_PASSWORD): two replicas', () => {
  let fake: FakeGather;
  let cluster: SpawnedCluster;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    fake = await startFakeGather();
    cluster = await spawnCluster(3);
    const env = {
      // Replicas share the secret as they would share a deployment's.
      SESSION_SECRET: testEnv().SESSION_SECRET as string,
      REDIS_CLUSTER_NODES: cluster.nodes,
      REDIS_PASSWORD: cluster.password,
      GATHER_BASE_URL: fake.baseUrl,
      AUTH_LOCAL_USERS_FILE: await writeUsersFile([ADA, GRACE]),
      RATE_LIMIT_LOGIN_LIMIT: '1000',
      RATE_LIMIT_USER_LIMIT: String(LIMIT),
    };
    a = await startTestApp(env);
    b = await startTestApp(env);
    for (const t of [a, b]) {
      await until(async () => (await fetch(`${t.url}/readyz`)).status === 200, 30_000, 100);
    }
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await cluster?.stop();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  it('shares sessions: signed in on A, used on B; a logout on B ends it on A', async () => {
    const cookie = await signIn(a, ADA.username, ADA.password);
    const res = await me(b, cookie);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { user: { id: string } }).user.id).toBe('ada');
    expect((await proxied(b, cookie)).status).toBe(200);
    expect((await spaRequest(b, '/auth/logout', { method: 'POST', cookie })).status).toBe(200);
    expect((await me(a, cookie)).status).toBe(401);
    expect((await proxied(a, cookie)).status).toBe(401);
  });

  it(`counts one rate limit across both: ${LIMIT} requests pass, alternating, then 429 on either`, async () => {
    const cookie = await signIn(b, GRACE.username, GRACE.password);
    const remaining: (number | undefined)[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const res = await proxied(i % 2 === 0 ? a : b, cookie);
      expect(res.status).toBe(200);
      remaining.push(remainingOf(res.headers));
    }
    expect(remaining).toEqual([5, 4, 3, 2, 1, 0]);
    for (const t of [a, b]) {
      const res = await proxied(t, cookie);
      expect(res.status).toBe(429);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    }
    expect(fake.requests).toHaveLength(LIMIT);
  });

  it('logs where Redis is, never the password', () => {
    expect(a.logs()).toContain(`"msg":"Redis ready at cluster ${cluster.nodes}"`);
    expect(a.logs()).not.toContain(cluster.password);
  });
});
