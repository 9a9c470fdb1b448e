import {
  startFakeGather,
  gatherError,
  type FakeGather,
  type FakeHandler,
} from '../fakes/fake-gather';
import { fingerprint } from '../../src/config/key-format';
import { MetricsServer } from '../../src/observability/metrics-server';
import { configDirWith } from '../support/config-dir';
import { freePort } from '../../src/http/free-port';
import { send, type Envelope, type RawResponse } from '../support/http';
import { remainingOf } from '../support/rate-limit-fields';
import { spawnRedis, type SpawnedRedis } from '../support/redis';
import { signIn, writeUsersFile } from '../support/session';
import { startTestApp, TEST_KEY, TEST_ORIGIN, type TestApp } from '../support/start-app';
import { until } from '../support/until';

const PASSWORD = 'correct horse battery';
const TEAM_KEY = 'qapi_teamAkey0123456789abcdef';
const MAIN = fingerprint(TEST_KEY);
const SHARED_SECRET = 'pause-replicas-secret-0123456789abcdef';

const call = (t: TestApp, cookie: string, path = '/api/gather/questions') =>
  send(t.url, { path, headers: { origin: TEST_ORIGIN, 'x-csrf': '1', cookie } });

/** Gather answers `status` with `headers` once, then as the default echo again. */
function answerOnce(fake: FakeGather, status: number, headers: Record<string, string>): string {
  const body = gatherError(status === 429 ? 'RATE_LIMITED' : 'UNAVAILABLE', 'Slow down');
  const echo = fake.handle;
  const once: FakeHandler = (_req, res) => {
    fake.handle = echo;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };
  fake.handle = once;
  return body;
}

/** The UPSTREAM_THROTTLED refusal exactly; its seconds left. */
function expectThrottled(res: RawResponse, upstreamStatus: number, atMost: number): number {
  expect(res.status).toBe(upstreamStatus);
  const body = res.json<Envelope>();
  expect(body.error.code).toBe('UPSTREAM_THROTTLED');
  const seconds = body.error.details?.retryAfterSeconds as number;
  expect(body.error.details).toEqual({ retryAfterSeconds: seconds, upstreamStatus });
  expect(Number.isInteger(seconds)).toBe(true);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(atMost);
  expect(res.headers['retry-after']).toBe(String(seconds));
  expect(res.headers['x-request-id']).toBe(body.meta.requestId);
  // Refused before the rate limit counts it: no item of the user's limit.
  expect(res.headers.ratelimit).toBeUndefined();
  return seconds;
}

const throttledLines = (t: TestApp): Record<string, unknown>[] =>
  t
    .logs()
    .split('\n')
    .filter((line) => line.includes('"gather.throttled"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

let fake: FakeGather;
let usersFile: string;
let configDir: string;
beforeAll(async () => {
  fake = await startFakeGather();
  usersFile = await writeUsersFile([
    { username: 'ada', password: PASSWORD, name: 'Ada', email: 'ada@example.test', team: 'team-a' },
    { username: 'bob', password: PASSWORD, name: 'Bob', email: 'bob@example.test' },
  ]);
  configDir = await configDirWith('gather:\n  teamKeys:\n    team-a: { env: TEAM_A_KEY }');
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

describe('a pause on Gather’s word, one replica', () => {
  let t: TestApp;
  let bob: string;
  let ada: string;
  beforeAll(async () => {
    t = await startTestApp(
      {
        GATHER_BASE_URL: fake.baseUrl,
        AUTH_LOCAL_USERS_FILE: usersFile,
        TEAM_A_KEY: TEAM_KEY,
        GATHER_MAX_PAUSE_SECONDS: '3',
        METRICS_PORT: String(await freePort()),
      },
      configDir,
    );
    bob = await signIn(t, 'bob', PASSWORD);
    ada = await signIn(t, 'ada', PASSWORD);
  });
  afterAll(() => t.close());

  it.each([
    ['0', 429],
    ['-5', 429],
    ['1.5', 429],
    ['5, 10', 429],
    ['soon', 429],
    ['Mon, 01 Jan 2001 00:00:00 GMT', 429],
    ['30', 500],
  ])('does not pause on Retry-After %p with %p', async (value, status) => {
    answerOnce(fake, status, { 'retry-after': value });
    expect((await call(t, bob)).status).toBe(status);
    expect((await call(t, bob)).status).toBe(200);
    expect(fake.requests).toHaveLength(2);
  });

  it('passes the 429 through unchanged, then refuses the key’s calls without forwarding or counting them, then forwards again', async () => {
    const before = remainingOf((await call(t, bob)).headers) as number;
    const lines = throttledLines(t).length;
    const body = answerOnce(fake, 429, { 'retry-after': '2' });
    const asked = await call(t, bob);
    expect(asked.status).toBe(429);
    expect(asked.body.toString()).toBe(body);
    expect(asked.headers['retry-after']).toBe('2');
    expect(remainingOf(asked.headers)).toBe(before - 1);
    const forwarded = fake.requests.length;
    for (let i = 0; i < 3; i++) expectThrottled(await call(t, bob), 429, 2);
    expect(fake.requests).toHaveLength(forwarded);
    // A team key is paused on its own: Ada's calls go on.
    expect((await call(t, ada)).status).toBe(200);
    expect(fake.requests).toHaveLength(forwarded + 1);
    expect(fake.requests.at(-1)?.headers['x-api-key']).toBe(TEAM_KEY);
    // One warn line for the pause, none per refusal.
    const logged = throttledLines(t).slice(lines);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 40, key: MAIN, status: 429, seconds: 2 });
    expect(JSON.stringify(logged)).not.toContain(TEST_KEY);
    // Once over, forwarded again; the refused calls spent nothing of the user's limit.
    let refused = 3;
    await until(
      async () => {
        const res = await call(t, bob);
        if (res.status === 200) return true;
        expectThrottled(res, 429, 2);
        refused += 1;
        return false;
      },
      5000,
      100,
    );
    const after = await call(t, bob);
    expect(after.status).toBe(200);
    // Counted: the asking answer, the two after the pause; not one refusal.
    expect(remainingOf(after.headers)).toBe(before - 3);
    const metrics = await fetch(
      `http://127.0.0.1:${t.app.get(MetricsServer).address()?.port as number}/metrics`,
    ).then((r) => r.text());
    expect(metrics).toContain(`gather_upstream_throttled_total{key="${MAIN}"} ${refused}\n`);
    expect(metrics).not.toContain(TEST_KEY);
  });

  it('pauses on a 503 with Retry-After as an HTTP date, refusing with 503', async () => {
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2000).toUTCString();
    answerOnce(fake, 503, { 'retry-after': at });
    expect((await call(t, bob)).status).toBe(503);
    expectThrottled(await call(t, bob), 503, 3);
    expect(fake.requests).toHaveLength(1);
    await until(async () => (await call(t, bob)).status === 200, 5000, 100);
  });

  it('pauses on a RateLimit item with r=0 on a success, refusing with 429', async () => {
    answerOnce(fake, 200, {
      ratelimit: '"gather";r=0;t=1',
      'ratelimit-policy': '"gather";q=9;w=1',
    });
    const asked = await call(t, bob);
    expect(asked.status).toBe(200);
    expect(asked.headers.ratelimit).toMatch(/^"gather";r=0;t=1, "user";r=\d+;t=\d+$/);
    expectThrottled(await call(t, bob), 429, 1);
    expect(fake.requests).toHaveLength(1);
    await until(async () => (await call(t, bob)).status === 200, 5000, 100);
  });

  it('caps a huge wait at GATHER_MAX_PAUSE_SECONDS', async () => {
    answerOnce(fake, 429, { 'retry-after': '99999999999999999999' });
    expect((await call(t, bob)).status).toBe(429);
    expectThrottled(await call(t, bob), 429, 3);
    await until(async () => (await call(t, bob)).status === 200, 6000, 100);
  });
});

describe('a pause on Gather’s word, two replicas on one Redis', () => {
  let redis: SpawnedRedis;
  let apps: TestApp[];
  const env = () => ({
    GATHER_BASE_URL: fake.baseUrl,
    AUTH_LOCAL_USERS_FILE: usersFile,
    TEAM_A_KEY: TEAM_KEY,
    REDIS_URL: redis.url,
    SESSION_SECRET: SHARED_SECRET,
  });
  beforeAll(async () => {
    redis = await spawnRedis();
    apps = [await startTestApp(env(), configDir), await startTestApp(env(), configDir)];
  });
  afterAll(async () => {
    for (const t of apps) await t.close();
    await redis.stop();
  });

  it('counts no refused call against the user limit, though the count may run beside the session read', async () => {
    const b = apps[1] as TestApp;
    const bob = await signIn(b, 'bob', PASSWORD);
    expect((await call(b, bob)).status).toBe(200);
    answerOnce(fake, 429, { 'retry-after': '2' });
    const asked = await call(b, bob);
    expect(asked.status).toBe(429);
    const left = remainingOf(asked.headers) as number;
    for (let i = 0; i < 3; i++) expectThrottled(await call(b, bob), 429, 2);
    await until(async () => (await call(b, bob)).status === 200, 5000, 100);
    // The first call after the pause and this one: nothing for the refusals.
    expect(remainingOf((await call(b, bob)).headers)).toBe(left - 2);
  });

  it('the other replica refuses within 1 s, nothing reaches Gather, and a replica started later knows', async () => {
    const [a, b] = apps as [TestApp, TestApp];
    const bobA = await signIn(a, 'bob', PASSWORD);
    const adaB = await signIn(b, 'ada', PASSWORD);
    answerOnce(fake, 429, { 'retry-after': '20' });
    expect((await call(a, bobA)).status).toBe(429);
    // The contract's one second, counted from the answer that asked.
    await until(async () => (await call(b, bobA)).status === 429, 1000, 50);
    const forwarded = fake.requests.length;
    expectThrottled(await call(b, bobA), 429, 20);
    expectThrottled(await call(a, bobA), 429, 20);
    expect(fake.requests).toHaveLength(forwarded);
    // The team key is not paused, on either replica.
    expect((await call(b, adaB)).status).toBe(200);
    const c = await startTestApp(env(), configDir);
    try {
      expectThrottled(await call(c, await signIn(c, 'bob', PASSWORD)), 429, 20);
    } finally {
      await c.close();
    }
    expect(fake.requests).toHaveLength(forwarded + 1);
  });
});
