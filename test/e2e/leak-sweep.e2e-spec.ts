import fc from 'fast-check';
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { startFakeGather, startRawServer, type FakeGather } from '../fakes/fake-gather';
import {
  IDP_CLIENT_ID,
  IDP_CLIENT_SECRET,
  startFakeIdp,
  type FakeIdp,
} from '../fakes/oidc-provider';
import { freePort } from '../../src/http/free-port';
import { send } from '../support/http';
import { OidcBrowser, sessionCookieOf, signInWithOidc } from '../support/oidc-browser';
import { signIn, writeUsersFile } from '../support/session';
import { sidOf, SPA_HEADERS } from '../support/spa';
import { metricsUrl, startTestApp, TEST_ORIGIN, type TestApp } from '../support/start-app';
import { until } from '../support/until';
import { headerLines, requestTarget } from '../fuzz/generators';
import { MetricsServer } from '../../src/observability/metrics-server';

/** Recognisable secrets: if any of them shows up anywhere a browser or an operator looks, it leaked. */
const KEY = 'qapi_LEAKCANARYkey0123456789abcdef';
const SESSION_SECRET = 'LEAKCANARY-session-secret-0123456789abcdef';
const PASSWORD = 'LEAKCANARY-password-horse-battery';
const ADMIN_TOKEN = 'LEAKCANARY-admin-token-0123456789abcdef';

/** The spellings a leak could take: plain, URL-encoded, base64 (also URL-safe) and hex. */
const spellings = (secret: string): string[] => [
  secret,
  encodeURIComponent(secret),
  Buffer.from(secret).toString('base64').slice(0, -2),
  Buffer.from(secret).toString('base64url').slice(0, -2),
  Buffer.from(secret).toString('hex'),
];

const expectNoLeak = (where: string, text: string, secrets: string[]): void => {
  for (const secret of secrets) {
    for (const spelling of spellings(secret)) {
      if (text.includes(spelling))
        throw new Error(`${where} holds a secret (${secret.slice(0, 14)}…)`);
    }
  }
};

/**
 * The scenarios of the hardening suites (generated paths and headers, smuggling, Gather's
 * faults, sign-in with right and wrong passwords, OIDC with a refresh token) run once more with
 * recognisable secrets; none appears in any answer, log line or /metrics (docs/contract.md:
 * keys, passwords and tokens never reach a browser, a log line or a metric).
 */
describe('leak sweep', () => {
  let fake: FakeGather;
  let broken: { baseUrl: string; close(): Promise<void> };
  let behave: (s: Socket) => void = (s) => s.resetAndDestroy();
  let t: TestApp;
  let faulty: TestApp;
  let idp: FakeIdp;
  let oidc: TestApp;
  let cookie: string;
  /** Every answer the BFFs sent in this file: status line, headers and body. */
  const seen: string[] = [];
  /** Those of the metrics listener's admin routes and the operators' page. */
  const adminSeen: string[] = [];

  const record = (text: string): string => {
    seen.push(text);
    return text;
  };

  const call = async (
    app: TestApp,
    path: string,
    headers: Record<string, string> = {},
    method = 'GET',
    body?: string,
  ) => {
    const res = await send(app.url, {
      method,
      path,
      body,
      headers: { ...SPA_HEADERS, cookie, ...headers },
    });
    record(`${res.status} ${JSON.stringify(res.headers)} ${res.text}`);
    return res;
  };

  const raw = async (app: TestApp, bytes: string): Promise<string> => {
    const socket = createConnection(Number(new URL(app.url).port), '127.0.0.1');
    socket.on('error', () => undefined);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.write(bytes);
    const bound = setTimeout(() => socket.destroy(), 5000);
    await once(socket, 'close');
    clearTimeout(bound);
    return record(Buffer.concat(chunks).toString('latin1'));
  };

  const admin = async (path: string, token: string | null = ADMIN_TOKEN, method = 'GET') => {
    const headers: Record<string, string> =
      token === null ? {} : { authorization: `Bearer ${token}` };
    const res = await send(metricsUrl(t), { method, path, headers });
    adminSeen.push(record(`${res.status} ${JSON.stringify(res.headers)} ${res.text}`));
    return res;
  };

  const metricsOf = async (app: TestApp): Promise<string> => {
    const port = app.app.get(MetricsServer).address()?.port as number;
    return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  };

  beforeAll(async () => {
    fake = await startFakeGather();
    broken = await startRawServer((s) => s.once('data', () => behave(s)));
    const usersFile = await writeUsersFile([
      { username: 'ada', password: PASSWORD, name: 'Ada', email: 'a@example.com' },
    ]);
    const env = {
      GATHER_API_KEY: KEY,
      SESSION_SECRET,
      AUTH_LOCAL_USERS_FILE: usersFile,
      GATHER_TIMEOUT_MS: '1000',
      LOG_LEVEL: 'debug',
    };
    t = await startTestApp({
      ...env,
      GATHER_BASE_URL: fake.baseUrl,
      ADMIN_TOKEN,
      METRICS_PORT: String(await freePort()),
    });
    faulty = await startTestApp({
      ...env,
      GATHER_BASE_URL: broken.baseUrl,
      METRICS_PORT: String(await freePort()),
    });
    idp = await startFakeIdp({
      redirectUri: `${TEST_ORIGIN}/auth/callback`,
      postLogoutRedirectUri: `${TEST_ORIGIN}/`,
    });
    oidc = await startTestApp({
      ...env,
      AUTH_LOCAL_USERS_FILE: undefined,
      GATHER_BASE_URL: fake.baseUrl,
      OIDC_ISSUER_URL: idp.issuer,
      OIDC_CLIENT_ID: IDP_CLIENT_ID,
      OIDC_CLIENT_SECRET: IDP_CLIENT_SECRET,
      // Every sign-in started counts against the per-address login limit.
      RATE_LIMIT_LOGIN_LIMIT: '1000',
      OIDC_SCOPES: 'openid profile email offline_access',
      OIDC_SESSION_CHECK_SECONDS: '1',
      METRICS_PORT: String(await freePort()),
    });
    cookie = await signIn(t, 'ada', PASSWORD);
  });
  afterAll(async () => {
    await Promise.all([t.close(), faulty.close(), oidc.close()]);
    await Promise.all([fake.close(), broken.close(), idp.close()]);
  });

  it('runs every scenario', async () => {
    // Sign-in: wrong password, right one, malformed JSON holding the password, logout.
    for (const body of [
      JSON.stringify({ username: 'ada', password: `${PASSWORD}x` }),
      JSON.stringify({ username: 'nobody', password: PASSWORD }),
      `{"username":"ada","password":"${PASSWORD}"`,
      JSON.stringify({ username: 'ada', password: PASSWORD }),
    ]) {
      await call(
        t,
        '/auth/login',
        { 'content-type': 'application/json', cookie: '' },
        'POST',
        body,
      );
    }
    await call(t, '/auth/me');
    // Generated paths and headers, on the proxy and on /auth/*.
    for (const path of fc.sample(requestTarget(), 40)) {
      if (/^[\x21-\x7e]*$/.test(path)) await call(t, path);
      else await raw(t, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    }
    for (const lines of fc.sample(headerLines, 20)) {
      const head = lines.map(([n, v]) => `${n}: ${v}`).join('\r\n');
      for (const path of ['/api/gather/questions', '/auth/me']) {
        await raw(
          t,
          `GET ${path} HTTP/1.1\r\nHost: x\r\nOrigin: ${TEST_ORIGIN}\r\nX-CSRF: 1\r\nCookie: ${cookie}\r\n${head}${head ? '\r\n' : ''}Connection: close\r\n\r\n`,
        );
      }
    }
    // Smuggling.
    await raw(
      t,
      `POST /api/gather/q HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    );
    await raw(
      t,
      `POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 9\r\n\r\n{"password":"${PASSWORD}"}`,
    );
    await raw(t, `GET /api/gather/q HTTP/1.1\nHost: x\nX-Api-Key: ${KEY}\n\n`);
    // Gather's errors, the key refused, and Gather echoing the headers it got into its own log.
    fake.handle = (_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(
        '{"error":{"code":"UNAUTHORIZED","message":"Invalid API key"},"meta":{"requestId":"r1","timestamp":"t"}}',
      );
    };
    await call(t, '/api/gather/refused');
    fake.reset();
    // Faults.
    for (const misbehave of [
      (s: Socket) => s.resetAndDestroy(),
      (s: Socket) => s.end('garbage\r\n\r\n'),
      () => undefined,
      (s: Socket) =>
        s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n'),
      (s: Socket) => s.write('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello'),
      (s: Socket) =>
        s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n'),
    ]) {
      behave = misbehave;
      const c = await signIn(faulty, 'ada', PASSWORD);
      await call(faulty, '/api/gather/x', { cookie: c }).catch(() => undefined);
    }
    // OIDC with a refresh token kept in the session, re-checked at the provider.
    const signedIn = await signInWithOidc(new OidcBrowser(oidc.url), 'ada');
    record(`${JSON.stringify([...signedIn.headers])} ${await signedIn.clone().text()}`);
    const oidcCookie = sessionCookieOf(signedIn);
    await call(oidc, '/auth/me', { cookie: oidcCookie });
    await new Promise((r) => setTimeout(r, 1100));
    await call(oidc, '/api/gather/questions', { cookie: oidcCookie });
    await call(oidc, '/auth/logout', { cookie: oidcCookie }, 'POST');
    // The operators' page and its files (no token), and every route it calls, with the token and
    // with a wrong one, once ada's calls are counted.
    await until(
      async () => (await admin('/admin/usage?by=user')).json<{ rows: unknown[] }>().rows.length > 0,
      10_000,
      200,
    );
    const page = await admin('/admin/', null);
    const files = [...page.text.matchAll(/"([\w.]+\.[0-9a-f]{12}\.(?:js|css))"/g)];
    expect(files).toHaveLength(4);
    for (const [, file] of files) expect((await admin(`/admin/${file}`, null)).status).toBe(200);
    for (const path of [
      '/admin/usage?by=user',
      '/admin/usage?by=team',
      '/admin/usage?by=key&format=csv',
      '/admin/keys',
      '/admin/users/ada/sessions',
    ]) {
      expect((await admin(path)).status).toBe(200);
      expect((await admin(path, `${ADMIN_TOKEN}x`)).status).toBe(401);
    }
    expect((await admin('/admin/users/ada/sessions', ADMIN_TOKEN, 'DELETE')).status).toBe(200);
    expect(seen.length).toBeGreaterThan(80);
  }, 120_000);

  it('finds none of the secrets in any answer, log line or /metrics', async () => {
    const refreshTokens = idp.issuedTokens.filter((token) => token.split('.').length !== 3);
    expect(refreshTokens.length).toBeGreaterThan(0);
    const secrets = [
      KEY,
      SESSION_SECRET,
      PASSWORD,
      ADMIN_TOKEN,
      IDP_CLIENT_SECRET,
      ...refreshTokens,
    ];
    expectNoLeak('an answer', seen.join('\n'), secrets);
    // One sink for every app of this file.
    expect(t.logs().length).toBeGreaterThan(0);
    expectNoLeak('a log line', t.logs(), secrets);
    for (const app of [t, faulty, oidc]) expectNoLeak('/metrics', await metricsOf(app), secrets);
    // The admin routes name a session by an opaque handle, never by the cookie's id.
    expect(adminSeen.length).toBeGreaterThan(15);
    expectNoLeak('an admin answer', adminSeen.join('\n'), [sidOf(cookie), cookie]);
  });

  it('would find them: the sweep sees a secret planted where it looks', () => {
    expect(() =>
      expectNoLeak('probe', `x${Buffer.from(KEY).toString('base64')}x`, [KEY]),
    ).toThrow();
    expect(() => expectNoLeak('probe', encodeURIComponent(PASSWORD), [PASSWORD])).toThrow();
  });
});
