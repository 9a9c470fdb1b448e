import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expectBffError } from '../support/http';
import { spawnRedis, type SpawnedRedis } from '../support/redis';
import { signIn, writeUsersFile, login } from '../support/session';
import { CONFIG_DIR, startTestApp, TEST_ORIGIN, type TestApp } from '../support/start-app';
import { tempDir } from '../support/temp-dir';

const ADA = { username: 'ada', password: 'ada password 1', name: 'Ada', email: 'ada@example.test' };
const CAP = 20;

interface AuditLine {
  audit?: boolean;
  event?: string;
  userId?: string;
  reason?: string;
}

const me = (t: TestApp, cookie: string) => fetch(`${t.url}/auth/me`, { headers: { cookie } });

let usersFile: string;
beforeAll(async () => {
  usersFile = await writeUsersFile([ADA]);
});
afterAll(() => rm(dirname(usersFile), { recursive: true, force: true }));

describe.each(['memory', 'redis'])('SESSION_MAX_PER_USER (default 20), %s store', (store) => {
  let redis: SpawnedRedis | undefined;
  let t: TestApp;
  beforeAll(async () => {
    if (store === 'redis') redis = await spawnRedis();
    t = await startTestApp({
      AUTH_LOCAL_USERS_FILE: usersFile,
      RATE_LIMIT_LOGIN_LIMIT: '1000',
      ...(redis ? { REDIS_URL: redis.url } : {}),
    });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('a 21st sign-in ends the oldest session: 20 listed, the first cookie gets 401', async () => {
    const logged = t.logs().length;
    const cookies: string[] = [];
    for (let i = 0; i <= CAP; i++) cookies.push(await signIn(t, ADA.username, ADA.password));
    const first = cookies[0] as string;
    const last = cookies[CAP] as string;
    const res = await fetch(`${t.url}/auth/sessions`, { headers: { cookie: last } });
    expect(res.status).toBe(200);
    const { sessions } = (await res.json()) as { sessions: Array<{ current: boolean }> };
    expect(sessions).toHaveLength(CAP);
    expect(sessions.at(-1)?.current).toBe(true);
    expect((await me(t, first)).status).toBe(401);
    expect((await me(t, cookies[1] as string)).status).toBe(200);
    expect((await me(t, last)).status).toBe(200);

    const superseded = t
      .logs()
      .slice(logged)
      .split('\n')
      .filter((line) => line.includes('"audit":true'))
      .map((line) => JSON.parse(line) as AuditLine)
      .filter((line) => line.reason === 'superseded');
    expect(superseded).toEqual([
      expect.objectContaining({ event: 'session.revoked', userId: 'ada', reason: 'superseded' }),
    ]);
  });
});

describe('a full memory store', () => {
  let t: TestApp;
  beforeAll(async () => {
    // session.memoryMaxSessions is a YAML setting: a config/ whose test.yaml holds two sessions.
    const dir = await tempDir('gather-config-');
    await copyFile(join(CONFIG_DIR, 'default.yaml'), join(dir, 'default.yaml'));
    const testYaml = await readFile(join(CONFIG_DIR, 'test.yaml'), 'utf8');
    await writeFile(
      join(dir, 'test.yaml'),
      testYaml.replace(/^session:\n/m, 'session:\n  memoryMaxSessions: 2\n'),
    );
    t = await startTestApp(
      { AUTH_LOCAL_USERS_FILE: usersFile, RATE_LIMIT_LOGIN_LIMIT: '1000' },
      dir,
    );
  });
  afterAll(() => t?.close());

  it('refuses a new sign-in with 503 SERVICE_UNAVAILABLE rather than ending a live session', async () => {
    const first = await signIn(t, ADA.username, ADA.password);
    const second = await signIn(t, ADA.username, ADA.password);
    const refused = await login(t, ADA.username, ADA.password);
    await expectBffError(refused, 503, 'SERVICE_UNAVAILABLE');
    expect(refused.headers.getSetCookie()).toEqual([]);
    expect((await me(t, first)).status).toBe(200);
    expect((await me(t, second)).status).toBe(200);
    // Once one ends, there is room again.
    await fetch(`${t.url}/auth/logout`, {
      method: 'POST',
      headers: { cookie: first, origin: TEST_ORIGIN, 'x-csrf': '1' },
    });
    expect((await me(t, await signIn(t, ADA.username, ADA.password))).status).toBe(200);
  });
});
