import { createHmac, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient } from '../../src/redis/redis-client';
import { startFakeGather, type FakeGather } from '../fakes/fake-gather';
import type { Envelope } from '../support/http';
import { connectRedis, spawnRedis, type SpawnedRedis } from '../support/redis';
import { signIn, writeUsersFile } from '../support/session';
import { sidOf, spaRequest, until } from '../support/spa';
import { startTestApp, type TestApp } from '../support/start-app';

const ADA = {
  username: 'ada',
  password: 'correct horse battery',
  name: 'Ada Lovelace',
  email: 'ada@example.test',
};

const me = (t: TestApp, cookie: string) => spaRequest(t, '/auth/me', { cookie });
const proxied = (t: TestApp, cookie: string) => spaRequest(t, '/api/gather/slow', { cookie });
const logout = (t: TestApp, cookie: string) =>
  spaRequest(t, '/auth/logout', { method: 'POST', cookie });

/** express-session's cookie for `sid` signed with `secret`: HMAC-SHA256, unpadded base64. */
const signed = (sid: string, secret: string): string =>
  `gather_session=${encodeURIComponent(
    `s:${sid}.${createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '')}`,
  )}`;

async function expect401(res: Response): Promise<void> {
  expect(res.status).toBe(401);
  const body = (await res.json()) as Envelope;
  expect(body.error.code).toBe('UNAUTHORIZED');
  expect(res.headers.get('x-request-id')).toBe(body.meta.requestId);
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

describe.each([
  { store: 'memory', withRedis: false },
  { store: 'Redis', withRedis: true },
])('the session lifecycle on the $store store', ({ withRedis }) => {
  const secret = randomBytes(32).toString('hex');
  let redis: SpawnedRedis | undefined;
  let admin: RedisClient | undefined;
  const apps: TestApp[] = [];
  beforeAll(async () => {
    if (!withRedis) return;
    redis = await spawnRedis();
    admin = await connectRedis(redis.url);
  });
  afterAll(async () => {
    for (const t of apps) await t.close();
    admin?.destroy();
    await redis?.stop();
  });

  const start = async (env: Record<string, string>): Promise<TestApp> => {
    const t = await startTestApp({
      GATHER_BASE_URL: fake.baseUrl,
      AUTH_LOCAL_USERS_FILE: usersFile,
      RATE_LIMIT_LOGIN_LIMIT: '1000',
      SESSION_SECRET: secret,
      ...(redis ? { REDIS_URL: redis.url } : {}),
      ...env,
    });
    apps.push(t);
    return t;
  };

  /** With Redis, the key must be gone from the store itself, not only refused by the app. */
  const expectNotStored = async (cookie: string): Promise<void> => {
    if (admin) expect(await admin.exists(`gbff:sess:${sidOf(cookie)}`)).toBe(0);
  };

  /** The deadline `/auth/me` reports for the session, after checking it answered 200. */
  const expiresAt = async (res: Response): Promise<number> => {
    expect(res.status).toBe(200);
    return Date.parse(((await res.json()) as { session: { expiresAt: string } }).session.expiresAt);
  };

  /**
   * Past the deadline the server reported (the store's own clock started as the response ended,
   * a moment later), the session is gone: from Redis, polled with a bound, and for every route.
   */
  const expectEndedAfter = async (deadline: number, cookie: string, t: TestApp): Promise<void> => {
    await sleep(Math.max(0, deadline - Date.now()) + 250);
    const store = admin;
    if (store) await until(async () => (await store.exists(`gbff:sess:${sidOf(cookie)}`)) === 0);
    await expect401(await me(t, cookie));
    await expect401(await proxied(t, cookie));
  };

  it('ends a session left idle, while each use restarts the idle clock', async () => {
    // Idle 2 s, a use every 1.1 s: each use has 0.9 s to arrive, however slow the machine.
    const t = await start({ SESSION_IDLE_TIMEOUT_SECONDS: '2' });
    const cookie = await signIn(t, ADA.username, ADA.password);
    await sleep(1100);
    await expiresAt(await me(t, cookie));
    await sleep(1100);
    // Past one idle timeout since the login, alive because it was used in between.
    const deadline = await expiresAt(await me(t, cookie));
    await expectEndedAfter(deadline, cookie, t);
  });

  it('ends a session at the absolute timeout however busy it is', async () => {
    const t = await start({
      SESSION_IDLE_TIMEOUT_SECONDS: '2',
      SESSION_ABSOLUTE_TIMEOUT_SECONDS: '3',
    });
    // The absolute clock starts while the login is answered: between these two instants.
    const signInSentAt = Date.now();
    const cookie = await signIn(t, ADA.username, ADA.password);
    const signedInAt = Date.now();
    // Busy: a use every 250 ms until 1.5 s after the login, each one well inside the 2 s idle time.
    let usedAt: number;
    let deadline: number;
    let answeredAt: number;
    do {
      await sleep(250);
      usedAt = Date.now();
      deadline = await expiresAt(await me(t, cookie));
      answeredAt = Date.now();
    } while (usedAt < signedInAt + 1500);
    // Used from 1.5 s on, the idle deadline is past 3 s: the one reported is the absolute one.
    // Redis reports the key's time left, not its deadline: read during that last request, the
    // deadline derived from it may be early by as much as that request took, never more.
    expect(deadline).toBeGreaterThanOrEqual(signInSentAt + 3000 - (answeredAt - usedAt));
    expect(deadline).toBeLessThanOrEqual(signedInAt + 3000);
    await expectEndedAfter(deadline, cookie, t);
  });

  it('does not let a slow request that finishes after the logout bring the session back', async () => {
    // Idle 5 s: the slow request outlasts a tenth of it, so it ends with a real touch.
    const env = { SESSION_IDLE_TIMEOUT_SECONDS: '5' };
    const a = await start(env);
    // With Redis the logout happens on another replica; in memory there is only one.
    const b = withRedis ? await start(env) : a;
    const cookie = await signIn(a, ADA.username, ADA.password);
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    fake.handle = (_req, res) => {
      void held.then(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"slow":true}');
      });
    };

    const slow = proxied(a, cookie);
    await until(() => fake.requests.length === 1);
    expect((await logout(b, cookie)).status).toBe(200);
    await sleep(600);
    release();
    const res = await slow;
    // It was let in while the session was valid; finishing must not undo the logout.
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"slow":true}');

    await expectNotStored(cookie);
    await expect401(await me(a, cookie));
    await expect401(await proxied(a, cookie));
    expect(fake.requests).toHaveLength(1);
  });
});

describe('SESSION_SECRET rotation across a restart, on Redis', () => {
  const secretA = randomBytes(32).toString('hex');
  const secretB = randomBytes(32).toString('hex');
  let redis: SpawnedRedis;
  let second: TestApp | undefined;
  beforeAll(async () => {
    redis = await spawnRedis();
  });
  afterAll(async () => {
    await second?.close();
    await redis.stop();
  });

  const start = (secret: string) =>
    startTestApp({
      REDIS_URL: redis.url,
      AUTH_LOCAL_USERS_FILE: usersFile,
      SESSION_SECRET: secret,
    });

  it('keeps a cookie signed with the old secret working, and signs new ones with the new', async () => {
    const first = await start(secretA);
    let old: string;
    try {
      old = await signIn(first, ADA.username, ADA.password);
      expect(old).toBe(signed(sidOf(old), secretA));
    } finally {
      await first.close();
    }

    second = await start(`${secretB},${secretA}`);
    expect((await me(second, old)).status).toBe(200);
    const fresh = await signIn(second, ADA.username, ADA.password);
    expect(fresh).toBe(signed(sidOf(fresh), secretB));
    expect((await me(second, fresh)).status).toBe(200);
    // The same id under a secret that is not in the list is not a session.
    await expect401(await me(second, signed(sidOf(old), randomBytes(32).toString('hex'))));
  });
});
