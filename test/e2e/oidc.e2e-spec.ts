import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeGather, type FakeGather } from '../fakes/fake-gather';
import {
  IDP_CLIENT_ID,
  IDP_CLIENT_SECRET,
  startFakeIdp,
  type FakeIdp,
} from '../fakes/oidc-provider';
import { MetricsServer } from '../../src/observability/metrics-server';
import { SessionStore } from '../../src/session/session-store';
import { configDirWith } from '../support/config-dir';
import { freePort } from '../../src/http/free-port';
import { expectBffError } from '../support/http';
import {
  OidcBrowser,
  formOf,
  sessionCookieOf,
  setCookiesOf,
  signInWithOidc,
  startOidcLogin,
  throughProvider,
  transactionCookiesIn,
  TRANSACTION_COOKIE,
  type SetCookie,
} from '../support/oidc-browser';
import { signIn, writeUsersFile } from '../support/session';
import { startTestApp, TEST_ORIGIN, type TestApp } from '../support/start-app';

const REDIRECT_URI = `${TEST_ORIGIN}/auth/callback`;
const POST_LOGOUT_URI = `${TEST_ORIGIN}/`;
const IDP_URLS = { redirectUri: REDIRECT_URI, postLogoutRedirectUri: POST_LOGOUT_URI };

const LOCAL_USER = {
  username: 'lin',
  password: 'local password for lin',
  name: 'Lin',
  email: 'lin@example.test',
};

interface LoginStart {
  /** The provider's authorization URL the BFF redirected to. */
  authorizationUrl: URL;
  res: Response;
}

/** startOidcLogin that keeps the response: tests check its cookie and headers. */
async function startLogin(browser: OidcBrowser, returnTo?: string): Promise<LoginStart> {
  const query = returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(returnTo)}`;
  const res = await browser.request(`${TEST_ORIGIN}/auth/login${query}`);
  expect(res.status).toBe(302);
  return { authorizationUrl: new URL(res.headers.get('location') as string), res };
}

/**
 * A failed callback: 401 and no session cookie; the one cookie it may touch is the transaction
 * cookie its `state` names, which it clears (`cleared`: that cookie was sent).
 */
async function expectRefusedCallback(res: Response, cleared?: string): Promise<void> {
  const cookies = setCookiesOf(res);
  await expectBffError(res, 401, 'UNAUTHORIZED');
  expect(cookies.map((c) => [c.name, c.deletes])).toEqual(cleared ? [[cleared, true]] : []);
}

/** The one sign-in in progress in `browser`'s jar, as [cookie name, sealed value]. */
function onlyTransaction(browser: OidcBrowser): [string, string] {
  const cookies = transactionCookiesIn(browser.jar(TEST_ORIGIN));
  expect(cookies).toHaveLength(1);
  return cookies[0] as [string, string];
}

const me = (t: TestApp, cookie: string) => fetch(`${t.url}/auth/me`, { headers: { cookie } });

const logout = (t: TestApp, cookie: string) =>
  fetch(`${t.url}/auth/logout`, {
    method: 'POST',
    headers: { cookie, origin: TEST_ORIGIN, 'x-csrf': '1' },
  });

const oidcEnv = (idp: Pick<FakeIdp, 'issuer'>): Record<string, string> => ({
  OIDC_ISSUER_URL: idp.issuer,
  OIDC_CLIENT_ID: IDP_CLIENT_ID,
  OIDC_CLIENT_SECRET: IDP_CLIENT_SECRET,
  // Every sign-in started counts against the per-address login limit.
  RATE_LIMIT_LOGIN_LIMIT: '1000',
  OIDC_TEAM_CLAIM: 'groups',
});

describe('OIDC sign-in against a real provider', () => {
  let idp: FakeIdp;
  let gather: FakeGather;
  let usersFile: string;
  let t: TestApp;

  beforeAll(async () => {
    idp = await startFakeIdp(IDP_URLS);
    gather = await startFakeGather();
    usersFile = await writeUsersFile([LOCAL_USER]);
    // OIDC_SCOPES is left unset: its default must apply.
    t = await startTestApp({
      ...oidcEnv(idp),
      GATHER_BASE_URL: gather.baseUrl,
      AUTH_LOCAL_USERS_FILE: usersFile,
      RATE_LIMIT_LOGIN_LIMIT: '1000',
    });
  });
  afterAll(async () => {
    await t?.close();
    await gather?.close();
    await idp?.close();
    await rm(dirname(usersFile), { recursive: true, force: true });
  });

  it('GET /auth/login: 302 to the provider with code, PKCE S256, state, nonce, redirect_uri and the default scopes', async () => {
    const browser = new OidcBrowser(t.url);
    const first = await startLogin(browser);
    const second = await startLogin(browser);
    const url = first.authorizationUrl;
    expect(`${url.origin}${url.pathname}`).toBe(`${idp.issuer}/auth`);
    const params = Object.fromEntries(url.searchParams);
    expect(params).toEqual({
      response_type: 'code',
      client_id: IDP_CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile email',
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) as unknown,
      code_challenge_method: 'S256',
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) as unknown,
      nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) as unknown,
    });
    const again = second.authorizationUrl.searchParams;
    for (const name of ['state', 'nonce', 'code_challenge']) {
      expect(again.get(name)).not.toBe(params[name]);
    }
    expect(first.res.headers.get('cache-control')).toBe('no-store');
  });

  it('GET /auth/login: keeps the transaction in one HttpOnly, SameSite=Lax, 10-minute cookie and starts no session', async () => {
    const { res } = await startLogin(new OidcBrowser(t.url));
    const cookies = setCookiesOf(res);
    expect(cookies).toHaveLength(1);
    expect(cookies[0]?.name).toMatch(TRANSACTION_COOKIE);
    expect(cookies[0]).toMatchObject({
      attributes: ['Max-Age=600', 'Path=/', 'HttpOnly', 'SameSite=Lax'],
      deletes: false,
    });
    // Sealed: nothing of the authorization request can be read from it.
    const value = (cookies[0] as SetCookie).value;
    const state = new URL(res.headers.get('location') as string).searchParams.get('state');
    expect(value).not.toContain(state);
    expect(cookies[0]?.name).not.toContain(state);
    expect(Buffer.from(value.slice(3), 'base64url').toString('latin1')).not.toContain(state);
  });

  it('signs in end to end: returnTo honoured, a Strict session cookie, the transaction cookie cleared', async () => {
    const browser = new OidcBrowser(t.url);
    const authorizationUrl = await startOidcLogin(browser, '/questions?tab=mine#top');
    const [transaction] = onlyTransaction(browser);
    const res = await browser.request(await throughProvider(browser, authorizationUrl, 'ada'));
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/questions?tab=mine#top');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const cookies = setCookiesOf(res);
    expect(cookies.map((c) => [c.name, c.deletes])).toEqual([
      [transaction, true],
      ['gather_session', false],
    ]);
    const session = cookies.find((c) => c.name === 'gather_session') as SetCookie;
    expect(session.attributes).toEqual(['Path=/', 'HttpOnly', 'SameSite=Strict']);
    expect(transactionCookiesIn(browser.jar(TEST_ORIGIN))).toEqual([]);
  });

  it('/auth/me shows the mapped user (team from OIDC_TEAM_CLAIM) and no token; the proxy works', async () => {
    const cookie = sessionCookieOf(await signInWithOidc(new OidcBrowser(t.url), 'ada'));
    const res = await me(t, cookie);
    expect(res.status).toBe(200);
    const text = await res.text();
    const body = JSON.parse(text) as { session: { expiresAt: string } };
    expect(body).toEqual({
      user: { id: 'ada', name: 'Ada Lovelace', email: 'ada@example.test', team: 'team-a' },
      session: { expiresAt: body.session.expiresAt },
    });
    // A JWT (ID token) starts with base64url '{"': eyJ.
    expect(text).not.toContain('eyJ');

    gather.reset();
    const proxied = await fetch(`${t.url}/api/gather/questions?limit=1`, {
      headers: { cookie, 'x-csrf': '1', origin: TEST_ORIGIN },
    });
    expect(proxied.status).toBe(200);
    expect(gather.requests.map((r) => r.url)).toEqual(['/qsi/gather/questions?limit=1']);
  });

  it('names a user without `name` by preferred_username, and gives no team without the claim', async () => {
    const cookie = sessionCookieOf(await signInWithOidc(new OidcBrowser(t.url), 'grace'));
    const body = (await (await me(t, cookie)).json()) as { user: unknown };
    expect(body.user).toEqual({
      id: 'grace',
      name: 'grace.h',
      email: 'grace@example.test',
      team: null,
    });
  });

  it('issues a new session id: the session cookie the browser had before is dropped', async () => {
    const browser = new OidcBrowser(t.url);
    const before = await signIn(t, LOCAL_USER.username, LOCAL_USER.password);
    const [name, value] = before.split('=') as [string, string];
    browser.jar(TEST_ORIGIN).set(name, value);
    const after = sessionCookieOf(await signInWithOidc(browser, 'ada'));
    expect(after).not.toBe(before);
    expect((await me(t, after)).status).toBe(200);
    await expectBffError(await me(t, before), 401, 'UNAUTHORIZED');
  });

  it('refuses a callback whose state does not match, and starts no session', async () => {
    const browser = new OidcBrowser(t.url);
    const { authorizationUrl } = await startLogin(browser);
    const callback = new URL(await throughProvider(browser, authorizationUrl.href, 'ada'));
    callback.searchParams.set('state', 'a-state-of-another-login');
    await expectRefusedCallback(await browser.request(callback.href));
  });

  it('refuses a callback without the transaction cookie', async () => {
    const browser = new OidcBrowser(t.url);
    const { authorizationUrl } = await startLogin(browser);
    const callback = await throughProvider(browser, authorizationUrl.href, 'ada');
    browser.jar(TEST_ORIGIN).delete(onlyTransaction(browser)[0]);
    await expectRefusedCallback(await browser.request(callback));
  });

  it('refuses a replayed callback, even with the transaction cookie sent again', async () => {
    const browser = new OidcBrowser(t.url);
    const { authorizationUrl } = await startLogin(browser);
    const callback = await throughProvider(browser, authorizationUrl.href, 'ada');
    const [name, transaction] = onlyTransaction(browser);
    expect((await browser.request(callback)).status).toBe(302);

    // The same URL again: the browser no longer has the transaction cookie.
    await expectRefusedCallback(await browser.request(callback));
    // An attacker who kept both the URL and the cookie.
    const replay = await fetch(`${t.url}${new URL(callback).pathname}${new URL(callback).search}`, {
      headers: { cookie: `${name}=${transaction}` },
      redirect: 'manual',
    });
    await expectRefusedCallback(replay, name);
  });

  it('refuses a forged transaction cookie', async () => {
    const browser = new OidcBrowser(t.url);
    const { authorizationUrl } = await startLogin(browser);
    const callback = await throughProvider(browser, authorizationUrl.href, 'ada');
    const [name, value] = onlyTransaction(browser);
    const sealed = Buffer.from(value.slice(3), 'base64url');
    sealed[20] = (sealed[20] as number) ^ 1;
    browser.jar(TEST_ORIGIN).set(name, `v1.${sealed.toString('base64url')}`);
    await expectRefusedCallback(await browser.request(callback), name);
  });

  it('answers a provider error (the user cancels at the provider) with 302 to returnTo with signin_error, consuming the sign-in', async () => {
    const browser = new OidcBrowser(t.url);
    const { authorizationUrl } = await startLogin(browser, '/questions?tab=mine#top');
    const callback = await throughProvider(browser, authorizationUrl.href, { cancel: true });
    expect(new URL(callback).searchParams.get('error')).toBe('access_denied');
    const [name] = onlyTransaction(browser);
    const res = await browser.request(callback);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/questions?tab=mine&signin_error=access_denied#top');
    expect(setCookiesOf(res).map((c) => [c.name, c.deletes])).toEqual([[name, true]]);
    // Consumed: the same answer again is one for a sign-in this browser no longer has.
    browser.jar(TEST_ORIGIN).set(name, 'v1.gone');
    await expectRefusedCallback(await browser.request(callback), name);
  });

  it('keeps a provider error for a sign-in this browser did not start at 401', async () => {
    const browser = new OidcBrowser(t.url);
    await startLogin(browser);
    const forged = `${TEST_ORIGIN}/auth/callback?error=access_denied&state=not-this-browsers&iss=${encodeURIComponent(idp.issuer)}`;
    await expectRefusedCallback(await browser.request(forged));
  });

  it('cuts the provider error code to the OAuth error-code characters and encodes it: one parameter, nothing else', async () => {
    const browser = new OidcBrowser(t.url);
    const { authorizationUrl } = await startLogin(browser, '/q?a=1');
    const state = authorizationUrl.searchParams.get('state') as string;
    const error = 'access_denied&admin=1#x"\\\u00e9\r\nSet-Cookie: y=1';
    const query = new URLSearchParams({ error, state, iss: idp.issuer });
    const res = await browser.request(`${TEST_ORIGIN}/auth/callback?${query.toString()}`);
    expect(res.status).toBe(302);
    const location = res.headers.get('location') as string;
    expect(location).toBe('/q?a=1&signin_error=access_denied%26admin%3D1%23xSet-Cookie%3A%20y%3D1');
    expect([...new URL(location, TEST_ORIGIN).searchParams.keys()]).toEqual(['a', 'signin_error']);
  });

  it.each([
    ['protocol-relative', '//evil.example'],
    ['backslash', '/\\evil.example'],
    ['absolute URL', 'https://evil.example/'],
    ['encoded slashes', '/%2F%2Fevil.example'],
    ['encoded backslash', '/%5Cevil.example'],
    ['control characters', '/a\r\nSet-Cookie: x=1'],
    ['encoded control characters', '/%09/evil.example'],
  ])('redirects to / after sign-in when returnTo is %s', async (_case, returnTo) => {
    const res = await signInWithOidc(new OidcBrowser(t.url), 'ada', returnTo);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/');
  });

  it('logout: the provider end-session URL with exactly client_id and post_logout_redirect_uri (never a token), which the provider accepts; the old cookie then gets 401', async () => {
    const browser = new OidcBrowser(t.url);
    const cookie = sessionCookieOf(await signInWithOidc(browser, 'ada'));
    const res = await logout(t, cookie);
    expect(res.status).toBe(200);
    const { logoutUrl } = (await res.json()) as { logoutUrl: string };
    const url = new URL(logoutUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${idp.issuer}/session/end`);
    expect([...url.searchParams].sort()).toEqual([
      ['client_id', IDP_CLIENT_ID],
      ['post_logout_redirect_uri', POST_LOGOUT_URI],
    ]);
    await expectBffError(await me(t, cookie), 401, 'UNAUTHORIZED');

    // The provider takes it: its confirmation form ends back at PUBLIC_URL + '/'.
    const page = await browser.request(logoutUrl);
    expect(page.status).toBe(200);
    const { action, fields } = formOf(await page.text());
    const done = await browser.request(new URL(action, logoutUrl).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...fields, logout: 'yes' }).toString(),
    });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(POST_LOGOUT_URI);
  });

  it('logout after a local sign-in has no end-session URL', async () => {
    const cookie = await signIn(t, LOCAL_USER.username, LOCAL_USER.password);
    const res = await logout(t, cookie);
    expect(await res.json()).toEqual({ logoutUrl: null });
  });

  it('keeps local sign-in on POST /auth/login next to OIDC on GET', async () => {
    const cookie = await signIn(t, LOCAL_USER.username, LOCAL_USER.password);
    expect((await me(t, cookie)).status).toBe(200);
  });

  it('never logs a token or the client secret', async () => {
    const cookie = sessionCookieOf(await signInWithOidc(new OidcBrowser(t.url), 'ada'));
    await logout(t, cookie);
    const logs = t.logs();
    expect(logs).toContain('/auth/callback');
    expect(idp.issuedTokens.length).toBeGreaterThan(0);
    for (const token of idp.issuedTokens) expect(logs).not.toContain(token.split('.')[1] ?? token);
    expect(logs).not.toContain(IDP_CLIENT_SECRET);
  });
});

describe('an expired login transaction', () => {
  let idp: FakeIdp;
  let configDir: string;
  let t: TestApp;
  beforeAll(async () => {
    idp = await startFakeIdp(IDP_URLS);
    configDir = await configDirWith('auth:\n  oidc:\n    transactionTtlSeconds: 1');
    t = await startTestApp(oidcEnv(idp), configDir);
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
    await rm(configDir, { recursive: true, force: true });
  });

  it('sets the cookie for the configured lifetime, and refuses a callback after it', async () => {
    const browser = new OidcBrowser(t.url);
    const { authorizationUrl, res } = await startLogin(browser);
    expect(setCookiesOf(res)[0]?.attributes).toContain('Max-Age=1');
    const callback = await throughProvider(browser, authorizationUrl.href, 'ada');
    await sleep(1100);
    // The test's jar ignores Max-Age and still sends the cookie: the server must refuse it.
    const [name] = onlyTransaction(browser);
    await expectRefusedCallback(await browser.request(callback), name);
  });
});

describe('the transaction cookie with COOKIE_SECURE=true behind a TLS proxy', () => {
  let idp: FakeIdp;
  let t: TestApp;
  beforeAll(async () => {
    idp = await startFakeIdp(IDP_URLS);
    t = await startTestApp({ ...oidcEnv(idp), COOKIE_SECURE: 'true', TRUST_PROXY: '1' });
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  it('is __Host-gather_oidc_<tag>, Secure and still SameSite=Lax', async () => {
    const res = await fetch(`${t.url}/auth/login`, {
      headers: { 'x-forwarded-proto': 'https' },
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    expect(setCookiesOf(res)).toEqual([
      {
        name: expect.stringMatching(/^__Host-gather_oidc_[\w-]{16}$/) as unknown,
        value: expect.stringMatching(/^v1\.[\w-]+$/) as unknown,
        attributes: ['Max-Age=600', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax'],
        deletes: false,
      },
    ]);
  });
});

describe('an OIDC sign-in over plain http with COOKIE_SECURE=true', () => {
  let idp: FakeIdp;
  let t: TestApp;
  beforeAll(async () => {
    idp = await startFakeIdp(IDP_URLS);
    const metricsPort = String(await freePort());
    t = await startTestApp({ ...oidcEnv(idp), COOKIE_SECURE: 'true', METRICS_PORT: metricsPort });
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  it('is refused at the callback with 400 BAD_REQUEST: no session, no cookie, no login.succeeded, not counted', async () => {
    const res = await signInWithOidc(new OidcBrowser(t.url), 'ada');
    const requestId = res.headers.get('x-request-id') as string;
    expect(setCookiesOf(res).filter((c) => /gather_session$/.test(c.name))).toEqual([]);
    await expectBffError(res, 400, 'BAD_REQUEST');
    expect(await t.app.get(SessionStore).sessionsOf('oidc:ada')).toEqual([]);
    const lines = t
      .logs()
      .split('\n')
      .filter((line) => line.includes(requestId));
    expect(lines.filter((line) => line.includes('"event":"login.succeeded"'))).toEqual([]);
    expect(lines.filter((line) => line.includes('arrived over plain http'))).toHaveLength(1);
    const port = t.app.get(MetricsServer).address()?.port as number;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).not.toMatch(/^bff_sessions_started_total\{method="oidc"\} [1-9]/m);
  });
});

describe('a provider unreachable at start-up', () => {
  let idp: FakeIdp | undefined;
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTestApp({ ...oidcEnv({ issuer: `http://127.0.0.1:${port}` }) });
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  it('starts anyway, answers 503 until the provider answers, then signs in', async () => {
    expect(t.logs()).toContain(`OIDC discovery at http://127.0.0.1:${port} failed`);
    await expectBffError(
      await fetch(`${t.url}/auth/login`, { redirect: 'manual' }),
      503,
      'SERVICE_UNAVAILABLE',
    );

    idp = await startFakeIdp({ ...IDP_URLS, port });
    const res = await signInWithOidc(new OidcBrowser(t.url), 'ada');
    expect(res.status).toBe(302);
    expect((await me(t, sessionCookieOf(res))).status).toBe(200);
  });
});

describe('without OIDC_ISSUER_URL', () => {
  let usersFile: string;
  let t: TestApp;
  beforeAll(async () => {
    usersFile = await writeUsersFile([LOCAL_USER]);
    t = await startTestApp({ AUTH_LOCAL_USERS_FILE: usersFile });
  });
  afterAll(async () => {
    await t?.close();
    await rm(dirname(usersFile), { recursive: true, force: true });
  });

  it('GET /auth/login and /auth/callback are 404 NOT_FOUND; POST /auth/login stays local', async () => {
    await expectBffError(
      await fetch(`${t.url}/auth/login?returnTo=/x`, { redirect: 'manual' }),
      404,
      'NOT_FOUND',
    );
    await expectBffError(
      await fetch(`${t.url}/auth/callback?code=x&state=y`, { redirect: 'manual' }),
      404,
      'NOT_FOUND',
    );
    const cookie = await signIn(t, LOCAL_USER.username, LOCAL_USER.password);
    expect((await me(t, cookie)).status).toBe(200);
  });
});
