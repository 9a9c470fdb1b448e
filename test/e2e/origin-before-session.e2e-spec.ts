import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { expectBffError } from '../support/http';
import { spawnRedis, type SpawnedRedis } from '../support/redis';
import { signIn, writeUsersFile } from '../support/session';
import { ANSWER_WITHIN_MS, SPA_HEADERS } from '../support/spa';
import { startTestApp, TEST_ORIGIN, type TestApp } from '../support/start-app';

const ADA = {
  username: 'ada',
  password: 'correct horse battery',
  name: 'Ada',
  email: 'ada@example.test',
};

/**
 * The origin and CSRF checks come before the session (docs/contract.md, "Check order"): with the
 * session store down, a refused request still gets its 403, not the store's 503.
 */
describe('origin and CSRF checks with the session store down', () => {
  let redis: SpawnedRedis;
  let usersFile: string;
  let t: TestApp;
  let cookie: string;
  let sessionId: string;

  beforeAll(async () => {
    redis = await spawnRedis();
    usersFile = await writeUsersFile([ADA]);
    t = await startTestApp({ REDIS_URL: redis.url, AUTH_LOCAL_USERS_FILE: usersFile });
    cookie = await signIn(t, ADA.username, ADA.password);
    const listed = await fetch(`${t.url}/auth/sessions`, { headers: { cookie } });
    expect(listed.status).toBe(200);
    sessionId = ((await listed.json()) as { sessions: Array<{ id: string }> }).sessions[0]!.id;
    await redis.stop();
  });
  afterAll(async () => {
    await t.close();
    await redis.stop();
    await rm(dirname(usersFile), { recursive: true, force: true });
  });

  function call(method: string, path: string, headers: Record<string, string>): Promise<Response> {
    return fetch(`${t.url}${path}`, {
      method,
      headers: { cookie, ...headers },
      signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
    });
  }

  describe.each([
    ['POST', '/auth/logout'],
    ['POST', '/auth/logout?everywhere=true'],
    ['DELETE', '/auth/sessions/<id>'],
  ])('%s %s', (method, route) => {
    // The id of Ada's session is known only once she has signed in.
    const path = (): string => route.replace('<id>', sessionId);

    it('refuses a foreign Origin: 403 FORBIDDEN_ORIGIN', async () => {
      const res = await call(method, path(), { origin: 'https://evil.example', 'x-csrf': '1' });
      await expectBffError(res, 403, 'FORBIDDEN_ORIGIN');
    });

    it('refuses Sec-Fetch-Site: cross-site: 403 FORBIDDEN_ORIGIN', async () => {
      const res = await call(method, path(), { ...SPA_HEADERS, 'sec-fetch-site': 'cross-site' });
      await expectBffError(res, 403, 'FORBIDDEN_ORIGIN');
    });

    it('refuses a request without X-CSRF: 403 CSRF_REQUIRED', async () => {
      await expectBffError(
        await call(method, path(), { origin: TEST_ORIGIN }),
        403,
        'CSRF_REQUIRED',
      );
    });

    it('answers 503 SERVICE_UNAVAILABLE once both checks pass', async () => {
      const res = await call(method, path(), SPA_HEADERS);
      await expectBffError(res, 503, 'SERVICE_UNAVAILABLE');
    });
  });

  it('refuses POST /auth/login from a foreign Origin: 403 FORBIDDEN_ORIGIN', async () => {
    const res = await call('POST', '/auth/login', {
      origin: 'https://evil.example',
      'x-csrf': '1',
      'content-type': 'application/json',
    });
    await expectBffError(res, 403, 'FORBIDDEN_ORIGIN');
  });
});
