import { randomUUID } from 'node:crypto';
import { startFakeGather, type FakeGather } from '../fakes/fake-gather';
import { configDirWith } from '../support/config-dir';
import { send, type Envelope, type RawResponse } from '../support/http';
import { rateLimitState } from '../support/rate-limit-fields';
import { spawnCluster, spawnRedis } from '../support/redis';
import { signIn, writeUsersFile } from '../support/session';
import { startTestApp, TEST_ORIGIN, type TestApp } from '../support/start-app';

const PASSWORD = 'correct horse battery';
const proxied = (t: TestApp, cookie: string) =>
  send(t.url, {
    path: '/api/gather/questions',
    headers: { origin: TEST_ORIGIN, 'x-csrf': '1', cookie },
  });

/** Seconds until the next UTC midnight as seen now, for a Retry-After read just after. */
function secondsToMidnight(): number {
  const now = new Date();
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.ceil((next - now.getTime()) / 1000);
}

function nextMidnightIso(): string {
  const now = new Date();
  return new Date(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1),
  ).toISOString();
}

/** SPEC's QUOTA_EXCEEDED: Retry-After to the renewal, details {quota, limit, resetAt}. */
function expectQuotaExceeded(res: RawResponse, quota: string, limit: number): void {
  expect(res.status).toBe(429);
  const body = res.json<Envelope>();
  expect(body.error.code).toBe('QUOTA_EXCEEDED');
  expect(body.error.details).toEqual({ quota, limit, resetAt: nextMidnightIso() });
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  // Read just before and after the answer: the renewal lies between.
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(secondsToMidnight() + 5);
  expect(retryAfter).toBeGreaterThanOrEqual(secondsToMidnight() - 60);
  expect(res.headers['x-request-id']).toBe(body.meta.requestId);
  expect(rateLimitState(res.headers)[quota]).toEqual({
    q: limit,
    w: 86400,
    r: 0,
    t: retryAfter,
  });
}

describe('quotas', () => {
  let fake: FakeGather;
  let usersFile: string;
  let configDir: string;
  const ada = `ada-${randomUUID()}`;
  const bob = `bob-${randomUUID()}`;
  const cy = `cy-${randomUUID()}`;
  const dee = `dee-${randomUUID()}`;

  beforeAll(async () => {
    fake = await startFakeGather();
    usersFile = await writeUsersFile([
      { username: ada, password: PASSWORD, name: 'Ada', email: 'ada@example.com' },
      { username: bob, password: PASSWORD, name: 'Bob', email: 'bob@example.com', team: 'red' },
      { username: cy, password: PASSWORD, name: 'Cy', email: 'cy@example.com', team: 'red' },
      { username: dee, password: PASSWORD, name: 'Dee', email: 'dee@example.com' },
    ]);
    configDir = await configDirWith(
      [
        'quotas:',
        '  user: { day: 5 }',
        '  teams: { red: { day: 3 } }',
        `  users: { ${dee}: { day: 2 } }`,
      ].join('\n'),
    );
  });
  beforeEach(() => fake.reset());
  afterAll(() => fake.close());

  describe.each([
    ['Redis, two replicas', 'redis'],
    // On a Cluster a call's counters share its team's slot: one script (docs/capacity.md).
    ['Redis Cluster, two replicas', 'cluster'],
    ['memory', 'memory'],
  ] as const)('%s', (_name, store) => {
    let stop: (() => Promise<void>) | undefined;
    let apps: TestApp[];
    beforeAll(async () => {
      let redisEnv: Record<string, string> = {};
      if (store === 'redis') {
        const redis = await spawnRedis();
        stop = () => redis.stop();
        redisEnv = { REDIS_URL: redis.url };
      } else if (store === 'cluster') {
        const cluster = await spawnCluster(3);
        stop = () => cluster.stop();
        redisEnv = { REDIS_CLUSTER_NODES: cluster.nodes, REDIS_PASSWORD: cluster.password };
      }
      const env = { GATHER_BASE_URL: fake.baseUrl, AUTH_LOCAL_USERS_FILE: usersFile, ...redisEnv };
      apps =
        store === 'memory'
          ? [await startTestApp(env, configDir)]
          : [await startTestApp(env, configDir), await startTestApp(env, configDir)];
    }, 120_000);
    afterAll(async () => {
      for (const t of apps) await t.close();
      await stop?.();
    });
    const app = (i: number): TestApp => apps[i % apps.length]!;

    // Each replica signs its own sessions (testEnv gives each a secret), so a cookie stays with
    // the replica that set it; the counters are what the replicas share.
    it('a user quota of 5: exactly 5 of 40 concurrent requests reach Gather, the rest QUOTA_EXCEEDED', async () => {
      const cookies = [await signIn(app(0), ada, PASSWORD), await signIn(app(1), ada, PASSWORD)];
      const responses = await Promise.all(
        Array.from({ length: 40 }, (_, i) => proxied(app(i), cookies[i % 2]!)),
      );
      const passed = responses.filter((r) => r.status === 200);
      expect(passed).toHaveLength(5);
      expect(fake.requests).toHaveLength(5);
      // Each forwarded answer says what is left of the quota, as a RateLimit item.
      const left = passed.map((r) => rateLimitState(r.headers)['user-day']);
      expect(left.map((s) => s?.r).sort()).toEqual([0, 1, 2, 3, 4]);
      for (const state of left) {
        expect(state).toMatchObject({ q: 5, w: 86400 });
        expect(state?.t).toBeGreaterThanOrEqual(1);
        expect(state?.t).toBeLessThanOrEqual(secondsToMidnight() + 5);
      }
      const refused = responses.filter((r) => r.status !== 200);
      expect(refused).toHaveLength(35);
      for (const res of refused) expectQuotaExceeded(res, 'user-day', 5);
    });

    it("a team's quota is shared by its users; a user override replaces the default", async () => {
      const bobs = await signIn(app(0), bob, PASSWORD);
      const cys = await signIn(app(1), cy, PASSWORD);
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) => proxied(app(i), i % 2 === 0 ? bobs : cys)),
      );
      expect(responses.filter((r) => r.status === 200)).toHaveLength(3);
      for (const res of responses.filter((r) => r.status !== 200)) {
        // On a Cluster a call the team refused holds its user's counter up until it is given
        // back, so a concurrent call of the same user may name user-day; the team is full by
        // then either way (docs/capacity.md, "Quotas").
        const named = res.json<Envelope>().error.details?.quota;
        if (store === 'cluster' && named === 'user-day') expectQuotaExceeded(res, 'user-day', 5);
        else expectQuotaExceeded(res, 'team-day', 3);
      }
      const dees = await signIn(app(1), dee, PASSWORD);
      expect((await proxied(app(1), dees)).status).toBe(200);
      expect((await proxied(app(1), dees)).status).toBe(200);
      expectQuotaExceeded(await proxied(app(1), dees), 'user-day', 2);
      expect(fake.requests).toHaveLength(5);
    });
  });
});
