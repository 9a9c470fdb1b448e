import { randomUUID } from 'node:crypto';
import { fingerprint } from '../../src/config/key-format';
import { MetricsServer } from '../../src/observability/metrics-server';
import { gatherError, startFakeGather, type FakeGather } from '../fakes/fake-gather';
import { configDirWith } from '../support/config-dir';
import { freePort } from '../../src/http/free-port';
import { send, type Envelope } from '../support/http';
import { spawnRedis, type SpawnedRedis } from '../support/redis';
import { signIn, writeUsersFile } from '../support/session';
import { startTestApp, TEST_KEY, TEST_ORIGIN, type TestApp } from '../support/start-app';
import { until } from '../support/until';

const PASSWORD = 'correct horse battery';
const ADMIN_TOKEN = 'usage-admin-token-0123456789abcdef';
/** SPEC: counts are visible in the routes within 10 s. */
const VISIBLE_WITHIN_MS = 10_000;

const proxied = (t: TestApp, cookie: string) =>
  send(t.url, {
    path: '/api/gather/questions',
    headers: { origin: TEST_ORIGIN, 'x-csrf': '1', cookie },
  });

const metricsUrl = (t: TestApp): string =>
  `http://127.0.0.1:${t.app.get(MetricsServer).address()?.port as number}`;

const admin = (t: TestApp, path: string, headers: Record<string, string> = {}) =>
  fetch(`${metricsUrl(t)}${path}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...headers },
  });

interface UsageBody {
  by: string;
  from: string;
  to: string;
  rows: { name: string; date: string; calls: number; errors: number; throttled: number }[];
}

const today = (): string => new Date().toISOString().slice(0, 10);

describe('usage', () => {
  let fake: FakeGather;
  let usersFile: string;
  let configDir: string;
  const ada = `ada-${randomUUID()}`;
  const bob = `bob-${randomUUID()}`;
  const team = `red-${randomUUID()}`;

  beforeAll(async () => {
    fake = await startFakeGather();
    usersFile = await writeUsersFile([
      { username: ada, password: PASSWORD, name: 'Ada', email: 'ada@example.com', team },
      { username: bob, password: PASSWORD, name: 'Bob', email: 'bob@example.com' },
    ]);
    configDir = await configDirWith(`quotas:\n  users: { ${bob}: { day: 2 } }`);
  });
  afterAll(() => fake.close());

  describe.each([
    ['Redis, two replicas', true],
    ['memory', false],
  ])('%s', (_name, withRedis) => {
    let redis: SpawnedRedis | undefined;
    let apps: TestApp[];
    beforeAll(async () => {
      fake.reset();
      redis = withRedis ? await spawnRedis() : undefined;
      const env = {
        GATHER_BASE_URL: fake.baseUrl,
        AUTH_LOCAL_USERS_FILE: usersFile,
        ADMIN_TOKEN,
        ...(redis ? { REDIS_URL: redis.url } : {}),
      };
      const start = async (): Promise<TestApp> =>
        startTestApp({ ...env, METRICS_PORT: String(await freePort()) }, configDir);
      apps = withRedis ? [await start(), await start()] : [await start()];
      const app = (i: number): TestApp => apps[i % apps.length]!;
      // ada: 3 answered 200 on the first replica, 1 answered 500 on the second;
      // bob: 2 forwarded on the second, then refused by his quota.
      const adaFirst = await signIn(app(0), ada, PASSWORD);
      for (let i = 0; i < 3; i++) expect((await proxied(app(0), adaFirst)).status).toBe(200);
      fake.handle = (_req, res) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(gatherError('BROKEN', 'Broken'));
      };
      const adaSecond = await signIn(app(1), ada, PASSWORD);
      expect((await proxied(app(1), adaSecond)).status).toBe(500);
      fake.reset();
      const bobs = await signIn(app(1), bob, PASSWORD);
      expect((await proxied(app(1), bobs)).status).toBe(200);
      expect((await proxied(app(1), bobs)).status).toBe(200);
      expect((await proxied(app(1), bobs)).json<Envelope>().error.code).toBe('QUOTA_EXCEEDED');
    });
    afterAll(async () => {
      for (const t of apps) await t.close();
      await redis?.stop();
    });

    it('GET /admin/usage sums every replica by user, team and key, within 10 s', async () => {
      const by = async (dimension: string): Promise<UsageBody> =>
        (await admin(apps[0]!, `/admin/usage?by=${dimension}`)).json() as Promise<UsageBody>;
      const date = today();
      await until(async () => (await by('key')).rows[0]?.calls === 6, VISIBLE_WITHIN_MS, 200);
      const users = await by('user');
      expect(users).toEqual({
        by: 'user',
        from: date,
        to: date,
        rows: [
          { name: ada, date, calls: 4, errors: 1, throttled: 0 },
          { name: bob, date, calls: 2, errors: 0, throttled: 1 },
        ],
      });
      expect((await by('team')).rows).toEqual([
        { name: team, date, calls: 4, errors: 1, throttled: 0 },
      ]);
      expect((await by('key')).rows).toEqual([
        { name: fingerprint(TEST_KEY), date, calls: 6, errors: 1, throttled: 1 },
      ]);
    });

    it('answers CSV with format=csv or Accept: text/csv', async () => {
      const date = today();
      for (const [query, headers] of [
        ['&format=csv', {}],
        ['', { accept: 'text/csv' }],
      ] as const) {
        const res = await admin(
          apps[0]!,
          `/admin/usage?by=team&from=${date}&to=${date}${query}`,
          headers,
        );
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
        expect(await res.text()).toBe(
          `date,name,calls,errors,throttled\r\n${date},${team},4,1,0\r\n`,
        );
      }
    });

    it('refuses a bad by or date, from after to, more than 92 days: 400 BAD_REQUEST', async () => {
      for (const query of [
        'by=nobody',
        '',
        'by=user&from=2026-02-30&to=2026-03-01',
        'by=user&from=yesterday',
        'by=user&from=2026-03-02&to=2026-03-01',
        'by=user&from=2026-01-01&to=2026-04-03',
      ]) {
        const res = await admin(apps[0]!, `/admin/usage?${query}`);
        expect([query, res.status]).toEqual([query, 400]);
        expect(((await res.json()) as Envelope).error.code).toBe('BAD_REQUEST');
      }
      // 92 days exactly is fine; days without counts have no rows.
      const wide = await admin(apps[0]!, '/admin/usage?by=user&from=2026-01-01&to=2026-04-02');
      expect(wide.status).toBe(200);
      expect(((await wide.json()) as UsageBody).rows).toEqual([]);
      const anonymous = await fetch(`${metricsUrl(apps[0]!)}/admin/usage?by=user`);
      expect(anonymous.status).toBe(401);
    });

    it("GET /auth/usage: the user's own calls and quotas, no-store; 401 without a session", async () => {
      const cookie = await signIn(apps[0]!, bob, PASSWORD);
      const own = () => send(apps[0]!.url, { path: '/auth/usage', headers: { cookie } });
      await until(
        async () => (await own()).json<{ today: { calls: number } }>().today.calls === 2,
        VISIBLE_WITHIN_MS,
        200,
      );
      const res = await own();
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const now = new Date();
      const midnight = new Date(
        Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1),
      ).toISOString();
      expect(res.json()).toEqual({
        userId: bob,
        team: null,
        today: { calls: 2 },
        month: { calls: 2 },
        quotas: [{ name: 'user-day', limit: 2, remaining: 0, resetAt: midnight }],
      });
      const ours = await signIn(apps[0]!, ada, PASSWORD);
      const adas = await send(apps[0]!.url, { path: '/auth/usage', headers: { cookie: ours } });
      expect(adas.json()).toMatchObject({ userId: ada, team, today: { calls: 4 }, quotas: [] });
      const anonymous = await send(apps[0]!.url, { path: '/auth/usage' });
      expect(anonymous.status).toBe(401);
      expect(anonymous.json<Envelope>().error.code).toBe('UNAUTHORIZED');
    });

    it('GET /admin/keys: each key by fingerprint, use, source, last use and calls today; never the key', async () => {
      const res = await admin(apps[0]!, '/admin/keys');
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toContain(TEST_KEY);
      const { keys } = JSON.parse(text) as { keys: Record<string, unknown>[] };
      expect(keys).toEqual([
        {
          fingerprint: fingerprint(TEST_KEY),
          use: 'main',
          source: 'env',
          loadedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) as unknown,
          lastUsedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) as unknown,
          callsToday: 6,
          pausedUntil: null,
        },
      ]);
    });
    it('a key Gather paused shows pausedUntil; the calls its pause refuses count as throttled', async () => {
      const cookie = await signIn(apps[0]!, ada, PASSWORD);
      fake.handle = (_req, res) => {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '30' });
        res.end(gatherError('RATE_LIMITED', 'Slow down'));
      };
      expect((await proxied(apps[0]!, cookie)).status).toBe(429);
      fake.reset();
      const refused = await proxied(apps[0]!, cookie);
      expect(refused.json<Envelope>().error.code).toBe('UPSTREAM_THROTTLED');
      const res = await admin(apps[0]!, '/admin/keys');
      const { keys } = (await res.json()) as { keys: { pausedUntil: string | null }[] };
      const until30 = Date.parse(keys[0]?.pausedUntil ?? '') - Date.now();
      expect(until30).toBeGreaterThan(20_000);
      expect(until30).toBeLessThanOrEqual(30_000);
      await until(
        async () => {
          const body = (await (await admin(apps[0]!, '/admin/usage?by=key')).json()) as UsageBody;
          return body.rows[0]?.throttled === 2 && body.rows[0]?.errors === 2;
        },
        VISIBLE_WITHIN_MS,
        200,
      );
    });
  });

  describe('a usage store that is down', () => {
    let redis: SpawnedRedis;
    let t: TestApp;
    beforeAll(async () => {
      redis = await spawnRedis();
      t = await startTestApp({
        GATHER_BASE_URL: fake.baseUrl,
        ADMIN_TOKEN,
        REDIS_URL: redis.url,
        METRICS_PORT: String(await freePort()),
      });
    });
    afterAll(async () => {
      await t?.close();
      await redis?.stop();
    });

    const expectUnavailable = async (path: string): Promise<void> => {
      const res = await admin(t, path);
      const body = (await res.json()) as Envelope;
      expect([path, res.status, body.error]).toEqual([
        path,
        503,
        { code: 'SERVICE_UNAVAILABLE', message: 'The usage store is unavailable' },
      ]);
      expect(res.headers.get('x-request-id')).toBe(body.meta.requestId);
    };

    it('GET /admin/usage and /admin/keys answer 503 SERVICE_UNAVAILABLE, silent or stopped', async () => {
      for (const path of ['/admin/usage?by=user', '/admin/keys']) {
        expect((await admin(t, path)).status).toBe(200);
      }
      // Frozen: commands go out and nothing answers; the deadline ends the wait.
      redis.pause();
      try {
        for (const path of ['/admin/usage?by=team', '/admin/keys']) await expectUnavailable(path);
      } finally {
        redis.resume();
      }
      await redis.stop();
      for (const path of ['/admin/usage?by=key', '/admin/keys']) await expectUnavailable(path);
      // Not a failure of the BFF: nothing is logged as one.
      expect(t.logs()).not.toContain('admin request failed');
    });
  });
});
