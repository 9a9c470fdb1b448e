import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient } from '../../src/redis/redis-client';
import { startFakeGather, type FakeGather } from '../fakes/fake-gather';
import { UUID, type Envelope } from '../support/http';
import { remainingOf } from '../support/rate-limit-fields';
import { connectRedis, spawnRedis, type SpawnedRedis } from '../support/redis';
import { configDirWith } from '../support/config-dir';
import { signIn, writeUsersFile } from '../support/session';
import { ANSWER_WITHIN_MS, sidOf, spaRequest, until, SPA_HEADERS } from '../support/spa';
import { startTestApp, testEnv, type TestApp } from '../support/start-app';

const ADA = {
  username: 'ada',
  password: 'correct horse battery',
  name: 'Ada Lovelace',
  email: 'ada@example.test',
};

const me = (t: TestApp, cookie?: string) => spaRequest(t, '/auth/me', cookie ? { cookie } : {});
const proxied = (t: TestApp, cookie: string) => spaRequest(t, '/api/gather/questions', { cookie });
const logout = (t: TestApp, cookie: string) =>
  spaRequest(t, '/auth/logout', { method: 'POST', cookie });

function login(t: TestApp): Promise<Response> {
  return fetch(`${t.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...SPA_HEADERS },
    body: JSON.stringify({ username: ADA.username, password: ADA.password }),
    signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
  });
}

/** The envelope exactly, with X-Request-Id = meta.requestId and nothing internal in it. */
async function expectError(res: Response, status: number, code: string): Promise<Envelope> {
  expect(res.status).toBe(status);
  const text = await res.text();
  const body = JSON.parse(text) as Envelope;
  expect(Object.keys(body).sort()).toEqual(['error', 'meta']);
  expect(body.error.code).toBe(code);
  expect(body.meta.requestId).toMatch(UUID);
  expect(res.headers.get('x-request-id')).toBe(body.meta.requestId);
  // No stack trace, no internal host or cause.
  expect(text).not.toMatch(/\n\s+at |Error:|redis|ECONNREFUSED|127\.0\.0\.1|6379/i);
  return body;
}

/** Calls of each command on the server so far (INFO commandstats). */
async function commandCalls(admin: RedisClient): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [, name, n] of (await admin.info('commandstats')).matchAll(
    /^cmdstat_(\w+):calls=(\d+)/gm,
  )) {
    counts[name as string] = Number(n);
  }
  return counts;
}

/**
 * Five calls of `call` cost five socket reads on the server, one per call (its session read and
 * its count written together), and one EVALSHA each. The replicas also write to Redis in the
 * background (usage once a second, the pause poll), which a window may catch: the fewest reads
 * over a few windows are the calls' own.
 */
async function expectOneRoundTripPerCall(
  admin: RedisClient,
  call: () => Promise<Response>,
): Promise<void> {
  const reads = async () =>
    Number(/^total_reads_processed:(\d+)/m.exec(await admin.info('stats'))?.[1]);
  const windows: number[] = [];
  while (windows.length < 5 && !windows.includes(5 + 2)) {
    const [readsBefore, before] = [await reads(), await commandCalls(admin)];
    for (let i = 0; i < 5; i++) expect((await call()).status).toBe(200);
    const [readsAfter, after] = [await reads(), await commandCalls(admin)];
    expect((after.evalsha ?? 0) - (before.evalsha ?? 0)).toBe(5);
    windows.push(readsAfter - readsBefore);
  }
  // Plus the INFO calls of this check (the second INFO stats and the commandstats in between).
  expect(Math.min(...windows)).toBe(5 + 2);
}

let fake: FakeGather;
let usersFile: string;
beforeAll(async () => {
  fake = await startFakeGather();
  usersFile = await writeUsersFile([ADA]);
});
afterAll(async () => {
  await fake.close();
  await rm(dirname(usersFile), { recursive: true, force: true });
});
beforeEach(() => fake.reset());

/** An app on `redis`; replicas share the secret as they would share a deployment's. */
const startOn = (
  redis: SpawnedRedis,
  env: Record<string, string> = {},
  configDir?: string,
): Promise<TestApp> =>
  startTestApp(
    {
      REDIS_URL: redis.url,
      GATHER_BASE_URL: fake.baseUrl,
      AUTH_LOCAL_USERS_FILE: usersFile,
      RATE_LIMIT_LOGIN_LIMIT: '1000',
      ...env,
    },
    configDir,
  );

describe('two replicas on one Redis', () => {
  const secret = testEnv().SESSION_SECRET as string;
  let redis: SpawnedRedis;
  let admin: RedisClient;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    redis = await spawnRedis();
    admin = await connectRedis(redis.url);
    a = await startOn(redis, { SESSION_SECRET: secret });
    b = await startOn(redis, { SESSION_SECRET: secret });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    admin.destroy();
    await redis.stop();
  });

  it('a session started on A works on B, for /auth/me and through the proxy', async () => {
    const cookie = await signIn(a, ADA.username, ADA.password);
    const res = await me(b, cookie);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { user: unknown }).user).toEqual({
      id: 'ada',
      name: 'Ada Lovelace',
      email: 'ada@example.test',
      team: null,
    });
    expect((await proxied(b, cookie)).status).toBe(200);
    expect(fake.requests).toHaveLength(1);
  });

  it('keeps the session under gbff:sess:<id> for the idle timeout, without the password', async () => {
    const cookie = await signIn(a, ADA.username, ADA.password);
    const key = `gbff:sess:${sidOf(cookie)}`;
    const pttl = await admin.pTTL(key);
    expect(pttl).toBeGreaterThan(1800_000 - 60_000);
    expect(pttl).toBeLessThanOrEqual(1800_000);
    const stored = (await admin.get(key)) as string;
    const session = JSON.parse(stored) as { user?: { id?: string }; createdAt?: unknown };
    expect(session.user?.id).toBe('ada');
    expect(typeof session.createdAt).toBe('number');
    expect(stored).not.toContain(ADA.password);
  });

  it('a logout on A ends the session on B: 401 for /auth/me and the proxy, key gone', async () => {
    const cookie = await signIn(a, ADA.username, ADA.password);
    expect((await me(b, cookie)).status).toBe(200);
    expect((await logout(a, cookie)).status).toBe(200);
    await expectError(await me(b, cookie), 401, 'UNAUTHORIZED');
    await expectError(await proxied(b, cookie), 401, 'UNAUTHORIZED');
    expect(fake.requests).toHaveLength(0);
    expect(await admin.exists(`gbff:sess:${sidOf(cookie)}`)).toBe(0);
  });

  it('sends the session read and the count of a session it knows in one round trip', async () => {
    const cookie = await signIn(a, ADA.username, ADA.password);
    // The first proxied call on B reads the session, then counts: it learns whose session it is.
    expect((await proxied(b, cookie)).status).toBe(200);
    await expectOneRoundTripPerCall(admin, () => proxied(b, cookie));
  });

  it('refuses a session ended on A, charging its user for at most one of those refusals', async () => {
    const ended = await signIn(a, ADA.username, ADA.password);
    const live = await signIn(a, ADA.username, ADA.password);
    expect((await proxied(b, ended)).status).toBe(200);
    const remaining = async (): Promise<number> => {
      const res = await proxied(b, live);
      expect(res.status).toBe(200);
      return remainingOf(res.headers) ?? NaN;
    };
    const first = await remaining();
    expect((await logout(a, ended)).status).toBe(200);
    for (let i = 0; i < 4; i++) {
      const refused = await proxied(b, ended);
      await expectError(refused, 401, 'UNAUTHORIZED');
      expect(refused.headers.get('ratelimit')).toBeNull();
    }
    // B had counted the first refused call beside the session read, for the user it knew.
    expect(await remaining()).toBe(first - 2);
    expect(fake.requests).toHaveLength(3);
  });

  it('serves 30 requests of one session with 30 reads and no write at all', async () => {
    const cookie = await signIn(a, ADA.username, ADA.password);
    const before = await commandCalls(admin);
    for (let i = 0; i < 30; i++) expect((await me(i % 2 ? a : b, cookie)).status).toBe(200);
    const after = await commandCalls(admin);
    const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
    expect(delta('get')).toBe(30);
    for (const write of ['set', 'pexpire', 'expire', 'del', 'unlink']) expect(delta(write)).toBe(0);
  });
});

describe('the idle clock with Redis: extended lazily, reported exactly', () => {
  let redis: SpawnedRedis;
  let admin: RedisClient;
  let t: TestApp;
  beforeAll(async () => {
    redis = await spawnRedis();
    admin = await connectRedis(redis.url);
    t = await startOn(redis, { SESSION_IDLE_TIMEOUT_SECONDS: '200' });
  });
  afterAll(async () => {
    await t.close();
    admin.destroy();
    await redis.stop();
  });

  const expiresAt = async (cookie: string): Promise<number> => {
    const res = await me(t, cookie);
    expect(res.status).toBe(200);
    return Date.parse(((await res.json()) as { session: { expiresAt: string } }).session.expiresAt);
  };

  it('leaves the deadline alone within a hundredth of the idle timeout, then moves it with PEXPIRE', async () => {
    const loggedInAt = Date.now();
    const cookie = await signIn(t, ADA.username, ADA.password);
    // After the login, whose rate-limit counters write too.
    const before = await commandCalls(admin);
    await sleep(400);
    // Well under 2 s (a hundredth of 200) since login: no write; /auth/me reports the key's deadline.
    const early = await expiresAt(cookie);
    expect(early).toBeLessThan(Date.now() + 200_000 - 300);
    expect(early).toBeGreaterThanOrEqual(loggedInAt + 200_000 - 50);
    await sleep(1800);
    const requestedAt = Date.now();
    const later = await expiresAt(cookie);
    expect(later).toBeGreaterThanOrEqual(requestedAt + 200_000);
    // The key itself was moved: what it has left, counted from when Redis answered, reaches as far.
    const pttl = await admin.pTTL(`gbff:sess:${sidOf(cookie)}`);
    expect(Date.now() + pttl).toBeGreaterThanOrEqual(requestedAt + 200_000);
    const after = await commandCalls(admin);
    expect((after.pexpire ?? 0) - (before.pexpire ?? 0)).toBe(1);
    expect((after.set ?? 0) - (before.set ?? 0)).toBe(0);
  });
});

describe('with Redis down', () => {
  let redis: SpawnedRedis;
  let t: TestApp;
  beforeAll(async () => {
    redis = await spawnRedis();
    t = await startOn(redis);
  });
  afterAll(async () => {
    await t.close();
    await redis.stop();
  });

  it('answers 503 SERVICE_UNAVAILABLE (never 200), and recovers when Redis is back', async () => {
    const cookie = await signIn(t, ADA.username, ADA.password);
    expect((await proxied(t, cookie)).status).toBe(200);
    await redis.stop();

    await expectError(await me(t, cookie), 503, 'SERVICE_UNAVAILABLE');
    await expectError(await proxied(t, cookie), 503, 'SERVICE_UNAVAILABLE');
    await expectError(await login(t), 503, 'SERVICE_UNAVAILABLE');
    await expectError(await logout(t, cookie), 503, 'SERVICE_UNAVAILABLE');
    const ready = await expectError(await spaRequest(t, '/readyz'), 503, 'SERVICE_UNAVAILABLE');
    expect(ready.error.details?.failing).toEqual(expect.arrayContaining(['session-store']));
    // Without a cookie there is nothing to look up: the usual 401.
    await expectError(await me(t), 401, 'UNAUTHORIZED');
    expect(fake.requests).toHaveLength(1);
    expect(t.logs()).toContain('Session store unavailable');

    // The restarted Redis is empty: the old session is gone, a new login works, no app restart.
    await redis.start();
    await until(async () => (await spaRequest(t, '/readyz')).status === 200, 15_000, 100);
    await expectError(await me(t, cookie), 401, 'UNAUTHORIZED');
    const fresh = await signIn(t, ADA.username, ADA.password);
    expect((await me(t, fresh)).status).toBe(200);
    expect((await proxied(t, fresh)).status).toBe(200);
  });
});

describe('with Redis frozen (connected, never answering)', () => {
  let redis: SpawnedRedis;
  let admin: RedisClient;
  let pid: number;
  let t: TestApp;
  beforeAll(async () => {
    redis = await spawnRedis();
    admin = await connectRedis(redis.url);
    pid = Number(/process_id:(\d+)/.exec(await admin.info('server'))?.[1]);
    t = await startOn(redis);
  });
  afterAll(async () => {
    process.kill(pid, 'SIGCONT');
    await t.close();
    admin.destroy();
    await redis.stop();
  });

  it('answers 503 instead of hanging, and serves the same session again once Redis answers', async () => {
    const cookie = await signIn(t, ADA.username, ADA.password);
    process.kill(pid, 'SIGSTOP');
    try {
      await expectError(await me(t, cookie), 503, 'SERVICE_UNAVAILABLE');
      await expectError(await spaRequest(t, '/readyz'), 503, 'SERVICE_UNAVAILABLE');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await until(async () => (await me(t, cookie)).status === 200, 15_000, 100);
  });
});

describe('with a user quota and a team quota on one Redis', () => {
  let redis: SpawnedRedis;
  let admin: RedisClient;
  let a: TestApp;
  let b: TestApp;
  const secret = testEnv().SESSION_SECRET as string;
  const RED = { ...ADA, username: 'rosa', team: 'red' };

  beforeAll(async () => {
    redis = await spawnRedis();
    admin = await connectRedis(redis.url);
    const configDir = await configDirWith(
      'quotas:\n  user: { day: 1000 }\n  team: { month: 5000 }',
    );
    const env = { AUTH_LOCAL_USERS_FILE: await writeUsersFile([RED]), SESSION_SECRET: secret };
    a = await startOn(redis, env, configDir);
    b = await startOn(redis, env, configDir);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    admin.destroy();
    await redis.stop();
  });

  it('counts the rate limit and both quotas in the round trip of the session read', async () => {
    const cookie = await signIn(a, RED.username, RED.password);
    expect((await proxied(b, cookie)).status).toBe(200);
    await expectOneRoundTripPerCall(admin, () => proxied(b, cookie));
    const res = await spaRequest(a, '/auth/usage', { cookie });
    const usage = (await res.json()) as { quotas: { name: string; remaining: number }[] };
    expect(usage.quotas.map((q) => [q.name, q.remaining])).toEqual(
      expect.arrayContaining([
        ['user-day', 1000 - 6],
        ['team-month', 5000 - 6],
      ]),
    );
    // Every counter of the call on the team's hash slot: one script, even on a Cluster.
    const keys = [...(await admin.keys('gbff:rl:*:user:*')), ...(await admin.keys('gbff:q:*'))];
    expect(keys).toHaveLength(3);
    const tags = new Set(keys.map((k) => /\{([^}]*)\}/.exec(k)?.[1]));
    expect([...tags]).toEqual([expect.stringMatching(/^t:[\w-]+$/)]);
  });

  it('gives back the quotas counted beside the read of a session that turned out ended', async () => {
    const ended = await signIn(a, RED.username, RED.password);
    const live = await signIn(a, RED.username, RED.password);
    // B reads the session once: it now counts that session's calls beside the read.
    expect((await proxied(b, ended)).status).toBe(200);
    const userDayLeft = async (): Promise<number | undefined> => {
      const res = await spaRequest(a, '/auth/usage', { cookie: live });
      const { quotas } = (await res.json()) as { quotas: { name: string; remaining: number }[] };
      return quotas.find((q) => q.name === 'user-day')?.remaining;
    };
    const before = await userDayLeft();
    expect((await logout(a, ended)).status).toBe(200);
    await expectError(await proxied(b, ended), 401, 'UNAUTHORIZED');
    // The refused call's count ran; its quotas come back (a DECR nobody waits for).
    await until(async () => (await userDayLeft()) === before);
    expect(fake.requests).toHaveLength(1);
  });
});
