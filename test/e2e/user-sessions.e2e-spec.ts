import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { expectBffError } from '../support/http';
import { spawnRedis, type SpawnedRedis } from '../support/redis';
import { login, writeUsersFile } from '../support/session';
import { ANSWER_WITHIN_MS, sidOf, SPA_HEADERS } from '../support/spa';
import { startTestApp, testEnv, type TestApp } from '../support/start-app';

const ADA = { username: 'ada', password: 'ada password 1', name: 'Ada', email: 'ada@example.test' };
const BOB = { username: 'bob', password: 'bob password 1', name: 'Bob', email: 'bob@example.test' };

interface Listed {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  current: boolean;
  userAgent: string | null;
}

/** A same-origin SPA request; `headers` adds to or replaces Origin and X-CSRF. */
function spa(
  t: TestApp,
  path: string,
  init: { method?: string; cookie?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(`${t.url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...SPA_HEADERS,
      ...(init.cookie ? { cookie: init.cookie } : {}),
      ...init.headers,
    },
    signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
  });
}

async function signIn(t: TestApp, user: typeof ADA, userAgent?: string): Promise<string> {
  const res = await login(
    t,
    user.username,
    user.password,
    userAgent === undefined ? {} : { 'user-agent': userAgent },
  );
  expect(res.status).toBe(200);
  return (res.headers.getSetCookie()[0] as string).split(';')[0] as string;
}

async function listOf(t: TestApp, cookie: string): Promise<Listed[]> {
  const res = await spa(t, '/auth/sessions', { cookie });
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return ((await res.json()) as { sessions: Listed[] }).sessions;
}

const me = (t: TestApp, cookie: string) => spa(t, '/auth/me', { cookie });

let usersFile: string;
beforeAll(async () => {
  usersFile = await writeUsersFile([ADA, BOB]);
});
afterAll(() => rm(dirname(usersFile), { recursive: true, force: true }));

/** Two instances: on one Redis they are replicas; in memory, both names are the one app. */
interface Topology {
  a: TestApp;
  b: TestApp;
  close(): Promise<void>;
}

const env = (extra: Record<string, string> = {}) => ({
  AUTH_LOCAL_USERS_FILE: usersFile,
  RATE_LIMIT_LOGIN_LIMIT: '1000',
  ...extra,
});

describe.each([
  [
    'one instance, memory store',
    async (): Promise<Topology> => {
      const t = await startTestApp(env());
      return { a: t, b: t, close: () => t.close() };
    },
  ],
  [
    'two replicas on one Redis',
    async (): Promise<Topology> => {
      const redis: SpawnedRedis = await spawnRedis();
      const shared = { REDIS_URL: redis.url, SESSION_SECRET: testEnv().SESSION_SECRET as string };
      const a = await startTestApp(env(shared));
      const b = await startTestApp(env(shared));
      return {
        a,
        b,
        close: async () => {
          await a.close();
          await b.close();
          await redis.stop();
        },
      };
    },
  ],
])('listing and ending sessions (%s)', (_name, start) => {
  let topo: Topology;
  beforeAll(async () => {
    topo = await start();
  });
  afterAll(() => topo.close());

  afterEach(async () => {
    // Each test starts from no sessions of Ada or Bob.
    for (const user of [ADA, BOB]) {
      const cookie = await signIn(topo.a, user);
      await spa(topo.a, '/auth/logout?everywhere=true', { method: 'POST', cookie });
    }
  });

  it('GET /auth/sessions lists the caller’s sessions from every replica, opaque ids, the current one marked', async () => {
    const { a, b } = topo;
    const laptop = await signIn(a, ADA, 'Laptop/1.0');
    const phone = await signIn(b, ADA, 'Phone/2.0');
    await signIn(b, BOB, 'Bob/1.0');
    const before = Date.now();
    const sessions = await listOf(b, phone);
    expect(sessions).toHaveLength(2);
    expect(sessions.map((s) => [s.userAgent, s.current])).toEqual([
      ['Laptop/1.0', false],
      ['Phone/2.0', true],
    ]);
    for (const s of sessions) {
      expect(Object.keys(s).sort()).toEqual([
        'createdAt',
        'current',
        'id',
        'lastSeenAt',
        'userAgent',
      ]);
      expect(s.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(s.id).not.toBe(sidOf(laptop));
      expect(s.id).not.toBe(sidOf(phone));
      expect(new Date(s.createdAt).toISOString()).toBe(s.createdAt);
      expect(Date.parse(s.lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(s.createdAt));
      expect(Date.parse(s.lastSeenAt)).toBeLessThanOrEqual(Date.now());
    }
    expect(Date.parse((sessions[1] as Listed).createdAt)).toBeLessThanOrEqual(before);
    // The same list, with the other one current, from the other replica.
    const fromLaptop = await listOf(a, laptop);
    expect(fromLaptop.map((s) => [s.id, s.current])).toEqual([
      [(sessions[0] as Listed).id, true],
      [(sessions[1] as Listed).id, false],
    ]);
  });

  it('keeps the sign-in User-Agent as sent, even empty; without a session, 401', async () => {
    const res = await fetch(`${topo.a.url}/auth/login`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...SPA_HEADERS,
        // fetch sends its own User-Agent unless it is replaced; an empty one is not "none".
        'user-agent': '',
      },
      body: JSON.stringify({ username: ADA.username, password: ADA.password }),
    });
    const cookie = (res.headers.getSetCookie()[0] as string).split(';')[0] as string;
    expect((await listOf(topo.a, cookie))[0]?.userAgent).toBe('');
    await expectBffError(await spa(topo.a, '/auth/sessions'), 401, 'UNAUTHORIZED');
  });

  it('DELETE /auth/sessions/<id> ends that session on every replica → 204', async () => {
    const { a, b } = topo;
    const laptop = await signIn(a, ADA, 'Laptop/1.0');
    const phone = await signIn(b, ADA, 'Phone/2.0');
    const laptopId = (await listOf(a, laptop)).find((s) => s.current)?.id as string;
    const res = await spa(b, `/auth/sessions/${laptopId}`, { method: 'DELETE', cookie: phone });
    expect(res.status).toBe(204);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe('');
    await expectBffError(await me(a, laptop), 401, 'UNAUTHORIZED');
    await expectBffError(await me(b, laptop), 401, 'UNAUTHORIZED');
    expect((await me(a, phone)).status).toBe(200);
    expect((await listOf(a, phone)).map((s) => s.userAgent)).toEqual(['Phone/2.0']);
    // Gone already: no longer one of the caller's.
    await expectBffError(
      await spa(a, `/auth/sessions/${laptopId}`, { method: 'DELETE', cookie: phone }),
      404,
      'NOT_FOUND',
    );
  });

  it('DELETE of an id that is not one of the caller’s sessions → 404 NOT_FOUND, nothing ends', async () => {
    const { a, b } = topo;
    const ada = await signIn(a, ADA);
    const bob = await signIn(b, BOB);
    const bobsId = (await listOf(b, bob))[0]?.id as string;
    for (const id of [bobsId, 'not-a-session', sidOf(bob)]) {
      await expectBffError(
        await spa(a, `/auth/sessions/${encodeURIComponent(id)}`, { method: 'DELETE', cookie: ada }),
        404,
        'NOT_FOUND',
      );
    }
    expect((await me(b, bob)).status).toBe(200);
  });

  it('DELETE has the origin and CSRF checks of POST /auth/*, before the session check', async () => {
    const ada = await signIn(topo.a, ADA);
    const id = (await listOf(topo.a, ada))[0]?.id as string;
    const del = (headers: Record<string, string>, cookie?: string) =>
      spa(topo.a, `/auth/sessions/${id}`, {
        method: 'DELETE',
        headers,
        ...(cookie ? { cookie } : {}),
      });
    await expectBffError(await del({ 'x-csrf': '' }, ada), 403, 'CSRF_REQUIRED');
    await expectBffError(
      await del({ origin: 'https://evil.example' }, ada),
      403,
      'FORBIDDEN_ORIGIN',
    );
    await expectBffError(
      await del({ 'sec-fetch-site': 'cross-site' }, ada),
      403,
      'FORBIDDEN_ORIGIN',
    );
    await expectBffError(
      await del({ origin: 'https://evil.example', 'x-csrf': '' }),
      403,
      'FORBIDDEN_ORIGIN',
    );
    await expectBffError(await del({}), 401, 'UNAUTHORIZED');
    expect((await me(topo.a, ada)).status).toBe(200);
  });

  it('POST /auth/logout?everywhere=true ends every session of the user on every replica, and only theirs', async () => {
    const { a, b } = topo;
    const one = await signIn(a, ADA);
    const two = await signIn(b, ADA);
    const three = await signIn(a, ADA);
    const bob = await signIn(b, BOB);
    const res = await spa(b, '/auth/logout?everywhere=true', { method: 'POST', cookie: two });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ logoutUrl: null });
    expect(res.headers.getSetCookie().join()).toMatch(/gather_session=;/);
    for (const cookie of [one, two, three]) {
      await expectBffError(await me(a, cookie), 401, 'UNAUTHORIZED');
      await expectBffError(await me(b, cookie), 401, 'UNAUTHORIZED');
    }
    expect((await me(a, bob)).status).toBe(200);
  });

  it('a plain logout ends only the current session', async () => {
    const one = await signIn(topo.a, ADA);
    const two = await signIn(topo.b, ADA);
    expect((await spa(topo.a, '/auth/logout', { method: 'POST', cookie: one })).status).toBe(200);
    await expectBffError(await me(topo.b, one), 401, 'UNAUTHORIZED');
    expect((await me(topo.b, two)).status).toBe(200);
  });
});
