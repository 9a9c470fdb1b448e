import { createHmac, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { send, type Envelope, type RawResponse, UUID } from '../support/http';
import { MetricsServer } from '../../src/observability/metrics-server';
import { SessionStore } from '../../src/session/session-store';
import { freePort } from '../../src/http/free-port';
import { writeUsersFile, loginRequest } from '../support/session';
import { SPA_HEADERS } from '../support/spa';
import { startTestApp, type TestApp } from '../support/start-app';

const ADA = {
  username: 'ada',
  password: 'correct horse battery',
  name: 'Ada Lovelace',
  email: 'ada@example.test',
  team: 'team-a',
};
const BOB = {
  username: 'bob',
  password: 'bobs own secret',
  name: 'Bob',
  email: 'bob@example.test',
};

let usersFile: string;
beforeAll(async () => {
  usersFile = await writeUsersFile([ADA, BOB]);
});
afterAll(() => rm(dirname(usersFile), { recursive: true, force: true }));

/** The app with local users; the login rate limit is out of the way of these many logins. */
const startWithUsers = (env: Record<string, string> = {}): Promise<TestApp> =>
  startTestApp({ AUTH_LOCAL_USERS_FILE: usersFile, RATE_LIMIT_LOGIN_LIMIT: '1000', ...env });

/** A same-origin SPA's request: Origin and X-CSRF as the SPEC asks; `headers` adds or replaces. */
function post(
  t: TestApp,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return send(t.url, {
    method: 'POST',
    path,
    headers: { ...SPA_HEADERS, 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body }),
  });
}

const login = (t: TestApp, username: string, password: string, headers?: Record<string, string>) =>
  send(t.url, loginRequest(username, password, headers));

const me = (t: TestApp, cookie?: string, headers: Record<string, string> = {}) =>
  send(t.url, { path: '/auth/me', headers: cookie ? { cookie, ...headers } : headers });

const metricsUrl = (t: TestApp): string =>
  `http://127.0.0.1:${t.app.get(MetricsServer).address()?.port as number}`;

const setCookies = (res: RawResponse): string[] => res.headers['set-cookie'] ?? [];

/** The `Cookie` request value (name=value) of the one cookie a response set. */
function cookieOf(res: RawResponse): string {
  expect(setCookies(res)).toHaveLength(1);
  return (setCookies(res)[0] as string).split(';')[0] as string;
}

/** The attributes of the one cookie a response set, as written. */
function attributesOf(res: RawResponse): string[] {
  expect(setCookies(res)).toHaveLength(1);
  return (setCookies(res)[0] as string).split('; ').slice(1);
}

/** Asserts the error envelope, X-Request-Id = meta.requestId, and no caching; returns the error. */
function expectError(res: RawResponse, status: number, code: string): Envelope['error'] {
  expect(res.status).toBe(status);
  const body = res.json<Envelope>();
  expect(body.error.code).toBe(code);
  expect(body.meta.requestId).toMatch(UUID);
  expect(res.headers['x-request-id']).toBe(body.meta.requestId);
  expect(res.headers['cache-control']).toBe('no-store');
  return body.error;
}

describe('local sign-in and the session routes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startWithUsers();
  });
  afterAll(() => t.close());

  it('signs in: 200 with exactly the user, no caching, and a fresh session cookie', async () => {
    const res = await login(t, ADA.username, ADA.password);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({
      user: { id: 'ada', name: 'Ada Lovelace', email: 'ada@example.test', team: 'team-a' },
    });
    expect(cookieOf(res)).toMatch(/^gather_session=s%3A[^;]+$/);
  });

  it('answers team null for a user without a team', async () => {
    const res = await login(t, BOB.username, BOB.password);
    expect(res.json()).toEqual({
      user: { id: 'bob', name: 'Bob', email: 'bob@example.test', team: null },
    });
  });

  it('issues a new session id on every login and drops the one the browser had', async () => {
    const first = cookieOf(await login(t, ADA.username, ADA.password));
    const second = cookieOf(await login(t, ADA.username, ADA.password, { cookie: first }));
    expect(second).not.toBe(first);
    expect((await me(t, second)).status).toBe(200);
    expectError(await me(t, first), 401, 'UNAUTHORIZED');
  });

  it('gives a wrong password and an unknown user the same 401 and no cookie', async () => {
    const wrong = await login(t, ADA.username, 'not the password');
    const unknown = await login(t, 'nobody', ADA.password);
    const wrongError = expectError(wrong, 401, 'INVALID_CREDENTIALS');
    expect(expectError(unknown, 401, 'INVALID_CREDENTIALS')).toEqual(wrongError);
    expect(Object.keys(wrong.headers).sort()).toEqual(Object.keys(unknown.headers).sort());
    expect(setCookies(wrong)).toEqual([]);
    expect(setCookies(unknown)).toEqual([]);
  });

  it.each([
    ['invalid JSON', '{"username":"ada",'],
    ['a JSON array', '[]'],
    ['a missing password', JSON.stringify({ username: 'ada' })],
    ['a non-string password', JSON.stringify({ username: 'ada', password: 12345 })],
    ['no body', undefined],
  ])('answers %s with 400 BAD_REQUEST', async (_case, body) => {
    const res = await post(t, '/auth/login', body);
    expectError(res, 400, 'BAD_REQUEST');
    expect(setCookies(res)).toEqual([]);
  });

  it('does not read JSON sent as another content type', async () => {
    const body = JSON.stringify({ username: ADA.username, password: ADA.password });
    expectError(
      await post(t, '/auth/login', body, { 'content-type': 'text/plain' }),
      400,
      'BAD_REQUEST',
    );
  });

  it('refuses a login body over 10 kB with 413 PAYLOAD_TOO_LARGE', async () => {
    const body = JSON.stringify({ username: ADA.username, password: 'x'.repeat(11 * 1024) });
    expectError(await post(t, '/auth/login', body), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('GET /auth/me without a session, or with a forged cookie: 401 UNAUTHORIZED', async () => {
    expectError(await me(t), 401, 'UNAUTHORIZED');
    expectError(await me(t, 'gather_session=s%3Aforged.c2lnbmF0dXJl'), 401, 'UNAUTHORIZED');
  });

  it('GET /auth/me with a session: the user and when the session expires, nothing else', async () => {
    const cookie = cookieOf(await login(t, ADA.username, ADA.password));
    const before = Date.now();
    const res = await me(t, cookie);
    const after = Date.now();
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json<{ session: { expiresAt: string } }>();
    expect(body.session.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(body).toEqual({
      user: { id: 'ada', name: 'Ada Lovelace', email: 'ada@example.test', team: 'team-a' },
      session: { expiresAt: body.session.expiresAt },
    });
    // Idle timeout 1800 s by default, well inside the absolute 28800 s.
    const expiresAt = Date.parse(body.session.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 1800_000);
    expect(expiresAt).toBeLessThanOrEqual(after + 1800_000);
  });

  it('logs out: 200, cookie expired, and the old cookie replayed gets 401', async () => {
    const cookie = cookieOf(await login(t, ADA.username, ADA.password));
    const res = await post(t, '/auth/logout', undefined, { cookie });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({ logoutUrl: null });
    expect(cookieOf(res)).toBe('gather_session=');
    expect(attributesOf(res)).toEqual([
      'Path=/',
      'Expires=Thu, 01 Jan 1970 00:00:00 GMT',
      'HttpOnly',
      'SameSite=Strict',
    ]);
    expectError(await me(t, cookie), 401, 'UNAUTHORIZED');
  });

  it('logs out without a session too', async () => {
    const res = await post(t, '/auth/logout');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ logoutUrl: null });
    expect(cookieOf(res)).toBe('gather_session=');
  });

  it('sends Cache-Control: no-store on unknown /auth routes', async () => {
    expectError(await send(t.url, { path: '/auth/nope' }), 404, 'NOT_FOUND');
  });

  it('never logs a password or a session cookie', async () => {
    const cookie = cookieOf(await login(t, ADA.username, ADA.password));
    await me(t, cookie);
    await login(t, ADA.username, 'a wrong guess');
    const logs = t.logs();
    expect(logs).toContain('/auth/me');
    expect(logs).not.toContain(ADA.password);
    expect(logs).not.toContain('a wrong guess');
    expect(logs).not.toContain(decodeURIComponent(cookie.split('=')[1] as string).slice(2, 20));
  });
});

describe('POST /auth/login without AUTH_LOCAL_USERS_FILE', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('does not exist: 404 NOT_FOUND before any other check', async () => {
    expectError(await login(t, ADA.username, ADA.password), 404, 'NOT_FOUND');
    expectError(await login(t, ADA.username, ADA.password, { 'x-csrf': '' }), 404, 'NOT_FOUND');
  });
});

interface CookieVariant {
  variant: string;
  env: Record<string, string>;
  /** What the TLS-terminating proxy adds, if any. */
  headers: Record<string, string>;
  name: string;
  attributes: string[];
}

describe.each<CookieVariant>([
  {
    variant: 'COOKIE_SECURE=false',
    env: {},
    headers: {},
    name: 'gather_session',
    attributes: ['Path=/', 'HttpOnly', 'SameSite=Strict'],
  },
  {
    variant: 'COOKIE_SAMESITE=lax',
    env: { COOKIE_SAMESITE: 'lax' },
    headers: {},
    name: 'gather_session',
    attributes: ['Path=/', 'HttpOnly', 'SameSite=Lax'],
  },
  {
    variant: 'COOKIE_SECURE=true behind a TLS proxy (TRUST_PROXY=1)',
    env: { COOKIE_SECURE: 'true', TRUST_PROXY: '1' },
    headers: { 'x-forwarded-proto': 'https' },
    name: '__Host-gather_session',
    attributes: ['Path=/', 'HttpOnly', 'Secure', 'SameSite=Strict'],
  },
])('the session cookie with $variant', ({ env, headers, name, attributes }) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startWithUsers(env);
  });
  afterAll(() => t.close());

  it('is set with exactly the SPEC attributes, works, and is cleared with the same ones', async () => {
    const res = await login(t, ADA.username, ADA.password, headers);
    expect(res.status).toBe(200);
    expect(cookieOf(res).startsWith(`${name}=s%3A`)).toBe(true);
    expect(attributesOf(res)).toEqual(attributes);

    const cookie = cookieOf(res);
    expect((await me(t, cookie, headers)).status).toBe(200);
    const out = await post(t, '/auth/logout', undefined, { cookie, ...headers });
    expect(cookieOf(out)).toBe(`${name}=`);
    expect(attributesOf(out)).toEqual([
      'Path=/',
      'Expires=Thu, 01 Jan 1970 00:00:00 GMT',
      ...attributes.slice(1),
    ]);
  });
});

describe.each<{ appEnv: string; env: Record<string, string>; advice: string }>([
  { appEnv: 'test', env: {}, advice: 'for plain http on localhost set COOKIE_SECURE=false' },
  {
    appEnv: 'production',
    // Production refuses a key that looks like an example.
    env: { GATHER_API_KEY: `qapi_${randomBytes(16).toString('hex')}` },
    advice: 'Production-like on a laptop',
  },
])('COOKIE_SECURE=true on a plain-http request (APP_ENV=$appEnv)', ({ appEnv, env, advice }) => {
  let t: TestApp;
  beforeAll(async () => {
    const metricsPort = String(await freePort());
    t = await startWithUsers({
      COOKIE_SECURE: 'true',
      APP_ENV: appEnv,
      METRICS_PORT: metricsPort,
      ...env,
    });
  });
  afterAll(() => t.close());

  // The file's apps share one log: this app's lines are told apart by its requests' ids.
  const requestIds: string[] = [];
  const refusedLogin = async (headers: Record<string, string> = {}): Promise<RawResponse> => {
    const res = await login(t, ADA.username, ADA.password, headers);
    requestIds.push(res.headers['x-request-id'] as string);
    return res;
  };
  const linesOfThisApp = (marker: string): string[] =>
    t
      .logs()
      .split('\n')
      .filter((line) => line.includes(marker) && requestIds.some((id) => line.includes(id)));

  const started = async (): Promise<string> => {
    const metrics = await (await fetch(`${metricsUrl(t)}/metrics`)).text();
    return /^bff_sessions_started_total\{method="local"\} (\d+)$/m.exec(metrics)?.[1] ?? '0';
  };

  it('refuses the sign-in with 400 BAD_REQUEST and starts no session, even with a forged X-Forwarded-Proto', async () => {
    const forged: Record<string, string>[] = [{}, { 'x-forwarded-proto': 'https' }];
    for (const headers of forged) {
      const res = await refusedLogin(headers);
      expect(expectError(res, 400, 'BAD_REQUEST').message).toBe(
        'Sign-in needs https: the session cookie is Secure and this request came over plain http',
      );
      expect(setCookies(res)).toEqual([]);
    }
    expect(await t.app.get(SessionStore).sessionsOf(`local:${ADA.username}`)).toEqual([]);
    expect(linesOfThisApp('"event":"login.succeeded"')).toEqual([]);
    expect(await started()).toBe('0');
  });

  it('says so in the log, once, with what to change in this environment', async () => {
    await refusedLogin();
    const warnings = linesOfThisApp('arrived over plain http with COOKIE_SECURE=true');
    expect(warnings).toHaveLength(1);
    const warning = JSON.parse(warnings[0] as string) as { level: number; msg: string };
    expect(warning.level).toBe(40);
    expect(warning.msg).toContain('was refused');
    expect(warning.msg).toContain('TRUST_PROXY');
    expect(warning.msg).toContain(advice);
    if (appEnv === 'production') expect(warning.msg).not.toContain('COOKIE_SECURE=false');
  });
});

describe('session timeouts', () => {
  const apps: TestApp[] = [];
  afterAll(() => Promise.all(apps.map((a) => a.close())));
  const start = async (idle: number, absolute: number): Promise<TestApp> => {
    const t = await startWithUsers({
      SESSION_IDLE_TIMEOUT_SECONDS: String(idle),
      SESSION_ABSOLUTE_TIMEOUT_SECONDS: String(absolute),
    });
    apps.push(t);
    return t;
  };

  it('ends a session left idle, while each use restarts the idle clock', async () => {
    // Idle 2 s, a use every 1.1 s: each use has 0.9 s to arrive, however busy the machine.
    const t = await start(2, 60);
    const cookie = cookieOf(await login(t, ADA.username, ADA.password));
    await sleep(1100);
    expect((await me(t, cookie)).status).toBe(200);
    await sleep(1100);
    // Past one idle timeout since login, alive because it was used in between.
    const res = await me(t, cookie);
    expect(res.status).toBe(200);
    const expiresAt = Date.parse(res.json<{ session: { expiresAt: string } }>().session.expiresAt);
    // From the deadline the server reported; the store's clock started as the response ended.
    await sleep(expiresAt - Date.now() + 250);
    expectError(await me(t, cookie), 401, 'UNAUTHORIZED');
  });

  it('does not keep a session alive from routes outside /auth and /api/gather', async () => {
    const t = await start(1, 60);
    const cookie = cookieOf(await login(t, ADA.username, ADA.password));
    for (let i = 0; i < 3; i++) {
      await sleep(450);
      const health = await send(t.url, { path: '/healthz', headers: { cookie } });
      expect(health.status).toBe(200);
      expect(setCookies(health)).toEqual([]);
    }
    expectError(await me(t, cookie), 401, 'UNAUTHORIZED');
  });

  it('ends a session at the absolute timeout however busy it is', async () => {
    const t = await start(2, 3);
    const loggedInAt = Date.now();
    const cookie = cookieOf(await login(t, ADA.username, ADA.password));
    await sleep(1000);
    expect((await me(t, cookie)).status).toBe(200);
    await sleep(1000);
    const res = await me(t, cookie);
    expect(res.status).toBe(200);
    // Two seconds in, the absolute deadline (3 s after login) comes before the idle one (4 s).
    const expiresAt = Date.parse(res.json<{ session: { expiresAt: string } }>().session.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(loggedInAt + 3000);
    expect(expiresAt).toBeLessThan(Date.now() + 2000);
    await sleep(expiresAt - Date.now() + 200);
    expectError(await me(t, cookie), 401, 'UNAUTHORIZED');
    expectError(await me(t, cookie), 401, 'UNAUTHORIZED');
  });
});

describe('session secret rotation (SESSION_SECRET="B,A")', () => {
  const secretA = randomBytes(32).toString('hex');
  const secretB = randomBytes(32).toString('hex');
  let t: TestApp;
  beforeAll(async () => {
    t = await startWithUsers({ SESSION_SECRET: `${secretB},${secretA}` });
  });
  afterAll(() => t.close());

  /** express-session's cookie value: `s:` + id + `.` + unpadded base64 HMAC-SHA256, URL-encoded. */
  const signed = (sid: string, secret: string): string =>
    `gather_session=${encodeURIComponent(
      `s:${sid}.${createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '')}`,
    )}`;

  it('signs new cookies with the first secret and still accepts one signed with an older one', async () => {
    const cookie = cookieOf(await login(t, ADA.username, ADA.password));
    const sid = /^s:([^.]+)\./.exec(
      decodeURIComponent(cookie.split('=')[1] as string),
    )?.[1] as string;
    expect(cookie).toBe(signed(sid, secretB));
    expect((await me(t, signed(sid, secretA))).status).toBe(200);
    const other = randomBytes(32).toString('hex');
    expectError(await me(t, signed(sid, other)), 401, 'UNAUTHORIZED');
  });
});
