import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { send, type Envelope, type RawResponse } from '../support/http';
import { signIn, writeUsersFile } from '../support/session';
import { startTestApp, TEST_ORIGIN, type TestApp } from '../support/start-app';

const ADA = {
  username: 'ada',
  password: 'correct horse battery',
  name: 'Ada',
  email: 'ada@example.test',
};
const LOGIN_BODY = JSON.stringify({ username: ADA.username, password: ADA.password });

/** A POST /auth/* with exactly the given headers (nothing added), and a JSON body for login. */
function post(
  t: TestApp,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<RawResponse> {
  return send(t.url, {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', ...headers },
    body: body ?? (path === '/auth/login' ? LOGIN_BODY : undefined),
  });
}

function expectError(res: RawResponse, code: string): void {
  const body = res.json<Envelope>();
  expect({ status: res.status, code: body.error.code }).toEqual({
    status: code === 'CSRF_REQUIRED' || code === 'FORBIDDEN_ORIGIN' ? 403 : 400,
    code,
  });
  expect(res.headers['x-request-id']).toBe(body.meta.requestId);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['set-cookie']).toBeUndefined();
}

describe('origin and CSRF checks on POST /auth/*', () => {
  let usersFile: string;
  let t: TestApp;
  beforeAll(async () => {
    usersFile = await writeUsersFile([ADA]);
    t = await startTestApp({
      AUTH_LOCAL_USERS_FILE: usersFile,
      RATE_LIMIT_LOGIN_LIMIT: '1000',
      ALLOWED_ORIGINS: `${TEST_ORIGIN},https://app.example.test`,
    });
  });
  afterAll(async () => {
    await t.close();
    await rm(dirname(usersFile), { recursive: true, force: true });
  });

  describe.each(['/auth/login', '/auth/logout'])('%s', (path) => {
    it('refuses a request without X-CSRF, or with an empty one: 403 CSRF_REQUIRED', async () => {
      expectError(await post(t, path, { origin: TEST_ORIGIN }), 'CSRF_REQUIRED');
      expectError(await post(t, path, { origin: TEST_ORIGIN, 'x-csrf': '' }), 'CSRF_REQUIRED');
    });

    it.each([
      ['a foreign origin', 'https://evil.example'],
      ['an allowed origin on another scheme', 'https://localhost:3000'],
      ['an opaque origin', 'null'],
    ])('refuses %s: 403 FORBIDDEN_ORIGIN', async (_case, origin) => {
      expectError(await post(t, path, { origin, 'x-csrf': '1' }), 'FORBIDDEN_ORIGIN');
    });

    it('refuses Sec-Fetch-Site: cross-site even without an Origin header: 403 FORBIDDEN_ORIGIN', async () => {
      expectError(
        await post(t, path, { 'sec-fetch-site': 'cross-site', 'x-csrf': '1' }),
        'FORBIDDEN_ORIGIN',
      );
      expectError(
        await post(t, path, { origin: TEST_ORIGIN, 'sec-fetch-site': 'cross-site', 'x-csrf': '1' }),
        'FORBIDDEN_ORIGIN',
      );
    });

    it('checks the origin before the CSRF header', async () => {
      expectError(await post(t, path, { origin: 'https://evil.example' }), 'FORBIDDEN_ORIGIN');
      expectError(await post(t, path, { 'sec-fetch-site': 'cross-site' }), 'FORBIDDEN_ORIGIN');
    });

    it.each([
      ['the public origin', { origin: TEST_ORIGIN, 'sec-fetch-site': 'same-origin' }],
      [
        'another allowed origin',
        { origin: 'https://app.example.test', 'sec-fetch-site': 'same-site' },
      ],
      ['no Origin at all (a non-browser client)', {}],
    ])('lets %s through with X-CSRF', async (_case, headers) => {
      const res = await post(t, path, { ...headers, 'x-csrf': 'anything' });
      expect(res.status).toBe(200);
    });
  });

  it('refuses a forbidden login before reading its body', async () => {
    const res = await post(t, '/auth/login', { origin: 'https://evil.example' }, '{not json');
    expectError(res, 'FORBIDDEN_ORIGIN');
  });

  it('leaves the session alone when a logout is refused', async () => {
    const cookie = await signIn(t, ADA.username, ADA.password);
    expectError(await post(t, '/auth/logout', { origin: TEST_ORIGIN, cookie }), 'CSRF_REQUIRED');
    expectError(
      await post(t, '/auth/logout', { origin: 'https://evil.example', 'x-csrf': '1', cookie }),
      'FORBIDDEN_ORIGIN',
    );
    expect((await send(t.url, { path: '/auth/me', headers: { cookie } })).status).toBe(200);
  });

  it('asks nothing of GET /auth/me: no X-CSRF needed', async () => {
    const cookie = await signIn(t, ADA.username, ADA.password);
    const res = await send(t.url, { path: '/auth/me', headers: { cookie } });
    expect(res.status).toBe(200);
  });
});
