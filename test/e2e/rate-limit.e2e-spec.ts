import { randomUUID } from 'node:crypto';
import { gatherError, startFakeGather, type FakeGather } from '../fakes/fake-gather';
import {
  IDP_CLIENT_ID,
  IDP_CLIENT_SECRET,
  startFakeIdp,
  type FakeIdp,
} from '../fakes/oidc-provider';
import { send, type Envelope, type RawResponse, UUID } from '../support/http';
import { spawnRedis, type SpawnedRedis } from '../support/redis';
import { loginRequest, signIn, writeUsersFile } from '../support/session';
import { configDirWith } from '../support/config-dir';
import { SPA_HEADERS } from '../support/spa';
import { rateLimitState } from '../support/rate-limit-fields';
import { startTestApp, TEST_ORIGIN, type TestApp } from '../support/start-app';

const PASSWORD = 'correct horse battery';
const RATE_HEADERS = ['ratelimit', 'ratelimit-policy'];
const ROUTE = 'route:POST /questions/**';

const proxied = (t: TestApp, cookie: string, path = '/api/gather/questions') =>
  send(t.url, { path, headers: { ...SPA_HEADERS, cookie } });

const login = (
  t: TestApp,
  username: string,
  password: string,
  headers: Record<string, string> = {},
) => send(t.url, loginRequest(username, password, headers));

/** Every rate-limit header the response carries, by name. */
function rateLimitHeaders(res: RawResponse): Record<string, string> {
  return Object.fromEntries(
    Object.entries(res.headers)
      .filter(([name]) => /ratelimit|retry-after/i.test(name))
      .map(([name, value]) => [name, String(value)]),
  );
}

/**
 * SPEC's 429 exactly: envelope, Retry-After = details.retryAfterSeconds, RateLimit-Policy and
 * RateLimit only, the refusing policy's item at r=0 with t = Retry-After.
 */
function expectRateLimited(
  res: RawResponse,
  limit: number,
  windowSeconds: number,
  policy = 'user',
): void {
  expect(res.status).toBe(429);
  const body = res.json<Envelope>();
  expect(Object.keys(body).sort()).toEqual(['error', 'meta']);
  expect(body.error.code).toBe('RATE_LIMITED');
  expect(body.error.message).toBe('Too many requests');
  const retryAfter = body.error.details?.retryAfterSeconds;
  expect(body.error.details).toEqual({ retryAfterSeconds: retryAfter });
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  expect(body.meta.requestId).toMatch(UUID);
  expect(res.headers['x-request-id']).toBe(body.meta.requestId);
  expect(Object.keys(rateLimitHeaders(res)).sort()).toEqual([...RATE_HEADERS, 'retry-after']);
  expect(res.headers['retry-after']).toBe(String(retryAfter));
  expect(rateLimitState(res.headers)[policy]).toEqual({
    q: limit,
    w: windowSeconds,
    r: 0,
    t: retryAfter,
  });
}

function expectRateHeaders(
  res: RawResponse,
  limit: number,
  remaining: number,
  window: number,
  policy = 'user',
) {
  expect(Object.keys(rateLimitHeaders(res)).sort()).toEqual(RATE_HEADERS);
  const item = rateLimitState(res.headers)[policy];
  expect(item).toMatchObject({ q: limit, w: window, r: remaining });
  expect(Number.isInteger(item?.t)).toBe(true);
  expect(item?.t).toBeGreaterThanOrEqual(1);
  expect(item?.t).toBeLessThanOrEqual(window);
}

describe('rate limits', () => {
  let fake: FakeGather;
  let usersFile: string;
  /** Fresh usernames per run, so counters of other runs (shared Redis) never interfere. */
  const ada = `ada-${randomUUID()}`;
  const bob = `bob-${randomUUID()}`;
  const cy = `cy-${randomUUID()}`;
  const dee = `dee-${randomUUID()}`;

  beforeAll(async () => {
    fake = await startFakeGather();
    usersFile = await writeUsersFile(
      [ada, bob, cy, dee].map((username) => ({
        username,
        password: PASSWORD,
        name: username,
        email: `${username}@example.com`,
      })),
    );
  });
  beforeEach(() => fake.reset());
  afterAll(() => fake.close());

  describe('per signed-in user on /api/gather/*, memory store', () => {
    let t: TestApp;
    let cookie: string;
    beforeAll(async () => {
      t = await startTestApp({
        GATHER_BASE_URL: fake.baseUrl,
        AUTH_LOCAL_USERS_FILE: usersFile,
        RATE_LIMIT_USER_LIMIT: '5',
        RATE_LIMIT_USER_WINDOW_SECONDS: '60',
      });
      cookie = await signIn(t, ada, PASSWORD);
    });
    afterAll(() => t.close());

    it('lets exactly 5 of 200 simultaneous requests reach Gather and answers the rest 429', async () => {
      const responses = await Promise.all(Array.from({ length: 200 }, () => proxied(t, cookie)));
      const passed = responses.filter((r) => r.status === 200);
      expect(passed).toHaveLength(5);
      expect(fake.requests).toHaveLength(5);
      const remaining = passed.map((r) => rateLimitState(r.headers).user?.r ?? -1);
      expect(remaining.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
      for (const res of passed) {
        expectRateHeaders(res, 5, rateLimitState(res.headers).user?.r ?? -1, 60);
      }
      const refused = responses.filter((r) => r.status !== 200);
      expect(refused).toHaveLength(195);
      for (const res of refused) expectRateLimited(res, 5, 60);
    });

    it("counts no request of a logged-out session against its user's limit", async () => {
      const ended = await signIn(t, dee, PASSWORD);
      const live = await signIn(t, dee, PASSWORD);
      expect((await proxied(t, ended)).status).toBe(200);
      expectRateHeaders(await proxied(t, live), 5, 3, 60);
      const out = await send(t.url, {
        method: 'POST',
        path: '/auth/logout',
        headers: { ...SPA_HEADERS, cookie: ended },
      });
      expect(out.status).toBe(200);
      for (let i = 0; i < 3; i++) {
        const refused = await proxied(t, ended);
        expect(refused.status).toBe(401);
        expect(refused.headers.ratelimit).toBeUndefined();
      }
      expectRateHeaders(await proxied(t, live), 5, 2, 60);
    });

    it('never contacts Gather while the user is limited, and keeps other users apart', async () => {
      expectRateLimited(await proxied(t, cookie, '/api/gather/other/path'), 5, 60);
      expect(fake.requests).toHaveLength(0);
      const other = await signIn(t, bob, PASSWORD);
      const res = await proxied(t, other);
      expect(res.status).toBe(200);
      expectRateHeaders(res, 5, 4, 60);
      expect(fake.requests).toHaveLength(1);
    });

    it("drops Gather's older RateLimit-* and sends the BFF's fields on Gather's answers and on its own errors", async () => {
      const cookieOfCy = await signIn(t, cy, PASSWORD);
      const gatherLimits = {
        'RateLimit-Limit': '999',
        'RateLimit-Remaining': '998',
        'RateLimit-Reset': '1',
        'RateLimit-Policy': '"gather";q=100;w=10',
        RateLimit: '"gather";r=50;t=5',
      };
      fake.handle = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', ...gatherLimits });
        res.end('{}');
      };
      const passed = await proxied(t, cookieOfCy);
      expectRateHeaders(passed, 5, 4, 60);
      // Gather's own items are kept, and the BFF's follow them in the same fields.
      expect(passed.headers['ratelimit-policy']).toBe('"gather";q=100;w=10, "user";q=5;w=60');
      expect(passed.headers.ratelimit).toMatch(/^"gather";r=50;t=5, "user";r=4;t=\d+$/);
      fake.handle = (_req, res) => {
        res.writeHead(503, { 'content-type': 'application/json', ...gatherLimits });
        res.end(gatherError('UNAVAILABLE', 'Down for maintenance'));
      };
      const passedThrough = await proxied(t, cookieOfCy);
      expect(passedThrough.status).toBe(503);
      expectRateHeaders(passedThrough, 5, 3, 60);
      // Gather refusing the key: the BFF's own 502, written apart from Gather's answer.
      fake.handle = (_req, res) => {
        res.writeHead(401, { 'content-type': 'application/json', ...gatherLimits });
        res.end(gatherError('UNAUTHORIZED', 'Invalid API key'));
      };
      const ownError = await proxied(t, cookieOfCy);
      expect(ownError.status).toBe(502);
      expect(ownError.json<Envelope>().error.code).toBe('UPSTREAM_UNAUTHORIZED');
      expectRateHeaders(ownError, 5, 2, 60);
    });

    it('answers an earlier failing check first: no session is 401, not 429', async () => {
      const res = await proxied(t, 'gather_session=nope');
      expect(res.status).toBe(401);
      expect(res.json<Envelope>().error.code).toBe('UNAUTHORIZED');
    });
  });

  describe('per-route rules from the YAML', () => {
    let t: TestApp;
    beforeAll(async () => {
      const dir = await configDirWith(
        'rateLimit:\n  routes:\n    - { method: POST, path: /questions/**, limit: 2, windowSeconds: 30 }',
      );
      t = await startTestApp(
        { GATHER_BASE_URL: fake.baseUrl, AUTH_LOCAL_USERS_FILE: usersFile },
        dir,
      );
    });
    afterAll(() => t.close());

    it('limits a matching method and path apart from the user limit', async () => {
      const cookie = await signIn(t, ada, PASSWORD);
      const post = () =>
        send(t.url, {
          method: 'POST',
          path: '/api/gather/questions/42/answers',
          headers: {
            ...SPA_HEADERS,
            cookie,
            'content-type': 'application/json',
          },
          body: '{}',
        });
      const first = await post();
      expect(first.status).toBe(200);
      // The rule (2 per 30 s) and the user limit (120 per 60 s), one item each.
      expectRateHeaders(first, 2, 1, 30, ROUTE);
      expectRateHeaders(first, 120, 119, 60);
      expect((await post()).status).toBe(200);
      expectRateLimited(await post(), 2, 30, ROUTE);
      expect(fake.requests).toHaveLength(2);
      // A GET on the same path is only under the user limit.
      const get = await proxied(t, cookie, '/api/gather/questions/42/answers');
      expect(get.status).toBe(200);
      expectRateHeaders(get, 120, 117, 60);
    });
  });

  describe('two instances on one Redis', () => {
    let redis: SpawnedRedis;
    let apps: TestApp[];
    beforeAll(async () => {
      redis = await spawnRedis();
      const env = {
        GATHER_BASE_URL: fake.baseUrl,
        AUTH_LOCAL_USERS_FILE: usersFile,
        REDIS_URL: redis.url,
        RATE_LIMIT_USER_LIMIT: '5',
      };
      apps = [await startTestApp(env), await startTestApp(env)];
    });
    afterAll(async () => {
      for (const t of apps) await t.close();
      await redis.stop();
    });

    it('shares one counter: exactly 5 of 200 simultaneous requests across both reach Gather', async () => {
      const cookies = [
        await signIn(apps[0]!, ada, PASSWORD),
        await signIn(apps[1]!, ada, PASSWORD),
      ];
      const responses = await Promise.all(
        Array.from({ length: 200 }, (_, i) => proxied(apps[i % 2]!, cookies[i % 2]!)),
      );
      expect(responses.filter((r) => r.status === 200)).toHaveLength(5);
      expect(fake.requests).toHaveLength(5);
      for (const res of responses.filter((r) => r.status !== 200)) expectRateLimited(res, 5, 60);
    });
  });

  describe('organisation budget (GATHER_UPSTREAM_RATE_LIMIT)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({
        GATHER_BASE_URL: fake.baseUrl,
        AUTH_LOCAL_USERS_FILE: usersFile,
        GATHER_UPSTREAM_RATE_LIMIT: '2',
      });
    });
    afterAll(() => t.close());

    it('answers 429 with Retry-After 1 past the budget, and Gather never sees those', async () => {
      const cookie = await signIn(t, ada, PASSWORD);
      const burstFrom = Date.now();
      const responses = await Promise.all(Array.from({ length: 10 }, () => proxied(t, cookie)));
      // Two a second: a burst within a second straddles at most two one-second windows, so at
      // most four get through; one that a busy machine stretches, two more per extra second.
      const windows = Math.floor((Date.now() - burstFrom) / 1000) + 2;
      const refused = responses.filter((r) => r.status === 429);
      expect(refused.length).toBeGreaterThanOrEqual(10 - 2 * windows);
      expect(fake.requests).toHaveLength(10 - refused.length);
      for (const res of refused) {
        expect(res.headers['retry-after']).toBe('1');
        const body = res.json<Envelope>();
        expect(body.error).toEqual({
          code: 'RATE_LIMITED',
          message: 'Too many requests',
          details: { retryAfterSeconds: 1 },
        });
        expect(res.headers['x-request-id']).toBe(body.meta.requestId);
      }
    });
  });

  describe('POST /auth/login', () => {
    const LIMIT = 3;

    describe('without TRUST_PROXY', () => {
      let t: TestApp;
      beforeAll(async () => {
        t = await startTestApp({
          AUTH_LOCAL_USERS_FILE: usersFile,
          RATE_LIMIT_LOGIN_LIMIT: String(LIMIT),
          RATE_LIMIT_LOGIN_WINDOW_SECONDS: '60',
        });
      });
      afterAll(() => t.close());

      it('limits attempts per client address, ignoring a rotating X-Forwarded-For', async () => {
        const attempts = [];
        for (let i = 0; i < LIMIT; i++) {
          attempts.push(
            await login(t, `nobody-${i}`, 'wrong', { 'x-forwarded-for': `203.0.113.${i}` }),
          );
        }
        attempts.forEach((res, i) => {
          expect(res.status).toBe(401);
          expect(res.json<Envelope>().error.code).toBe('INVALID_CREDENTIALS');
          expectRateHeaders(res, LIMIT, LIMIT - 1 - i, 60, 'login');
        });
        // Right password, new username, new forwarded address: still the same client.
        const refused = await login(t, ada, PASSWORD, { 'x-forwarded-for': '198.51.100.7' });
        expectRateLimited(refused, LIMIT, 60, 'login');
        expect(refused.headers['set-cookie']).toBeUndefined();
      });
    });

    describe('with TRUST_PROXY=1 (one proxy in front)', () => {
      let t: TestApp;
      beforeAll(async () => {
        t = await startTestApp({
          AUTH_LOCAL_USERS_FILE: usersFile,
          TRUST_PROXY: '1',
          RATE_LIMIT_LOGIN_LIMIT: String(LIMIT),
          RATE_LIMIT_LOGIN_WINDOW_SECONDS: '60',
        });
      });
      afterAll(() => t.close());

      it('limits a username across addresses only at the 10x safety net, case-insensitively', async () => {
        const net = LIMIT * 10;
        for (let i = 0; i < net; i++) {
          const name = i % 2 === 0 ? bob : bob.toUpperCase();
          const res = await login(t, name, 'wrong', { 'x-forwarded-for': `192.0.2.${i}` });
          expect(res.status).toBe(401);
        }
        const refused = await login(t, bob, PASSWORD, { 'x-forwarded-for': '192.0.2.200' });
        // The safety net's refusal is the "login" policy's item at r=0 (q stays the limit).
        expectRateLimited(refused, LIMIT, 60, 'login');
        // Another account from a fresh address is unaffected.
        const other = await login(t, ada, PASSWORD, { 'x-forwarded-for': '192.0.2.201' });
        expect(other.status).toBe(200);
        expectRateHeaders(other, LIMIT, LIMIT - 1, 60, 'login');
      });

      it('limits per forwarded client address when the proxy is trusted', async () => {
        const ip = '198.51.100.99';
        for (let i = 0; i < LIMIT; i++) {
          expect((await login(t, `x-${i}`, 'wrong', { 'x-forwarded-for': ip })).status).toBe(401);
        }
        expectRateLimited(
          await login(t, `x-last`, 'wrong', { 'x-forwarded-for': ip }),
          LIMIT,
          60,
          'login',
        );
        expect(
          (await login(t, 'x-fresh', 'wrong', { 'x-forwarded-for': '198.51.100.100' })).status,
        ).toBe(401);
      });
    });
  });
});

describe('starting an OIDC sign-in counts against the per-address login limit', () => {
  const LIMIT = 4;
  const WINDOW = 60;
  let idp: FakeIdp;
  let t: TestApp;
  beforeAll(async () => {
    idp = await startFakeIdp({
      redirectUri: `${TEST_ORIGIN}/auth/callback`,
      postLogoutRedirectUri: `${TEST_ORIGIN}/`,
    });
    const usersFile = await writeUsersFile([
      { username: 'ada', password: PASSWORD, name: 'Ada', email: 'ada@example.com' },
    ]);
    t = await startTestApp({
      OIDC_ISSUER_URL: idp.issuer,
      OIDC_CLIENT_ID: IDP_CLIENT_ID,
      OIDC_CLIENT_SECRET: IDP_CLIENT_SECRET,
      AUTH_LOCAL_USERS_FILE: usersFile,
      RATE_LIMIT_LOGIN_LIMIT: String(LIMIT),
      RATE_LIMIT_LOGIN_WINDOW_SECONDS: String(WINDOW),
    });
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  it('GET /auth/login, GET /auth/callback and POST /auth/login share one counter; past it, 429 RATE_LIMITED', async () => {
    expect((await send(t.url, { path: '/auth/login' })).status).toBe(302);
    expect((await send(t.url, { path: '/auth/login?returnTo=/x' })).status).toBe(302);
    // A callback without its transaction is refused, and counted all the same.
    expect((await send(t.url, { path: '/auth/callback?code=c&state=s' })).status).toBe(401);
    expect((await login(t, 'ada', PASSWORD)).status).toBe(200);
    expectRateLimited(await send(t.url, { path: '/auth/login' }), LIMIT, WINDOW, 'login');
    expectRateLimited(
      await send(t.url, { path: '/auth/callback?code=c&state=s' }),
      LIMIT,
      WINDOW,
      'login',
    );
    expectRateLimited(await login(t, 'ada', PASSWORD), LIMIT, WINDOW, 'login');
  });
});
