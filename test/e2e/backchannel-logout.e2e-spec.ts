import {
  IDP_CLIENT_ID,
  IDP_CLIENT_SECRET,
  startFakeIdp,
  type FakeIdp,
} from '../fakes/oidc-provider';
import { expectBodyTimeout, openRaw, UUID, type Envelope } from '../support/http';
import { OidcBrowser, formOf, sessionCookieOf, signInWithOidc } from '../support/oidc-browser';
import { spawnRedis, type SpawnedRedis } from '../support/redis';
import { until } from '../support/until';
import { startTestApp, TEST_ORIGIN, testEnv, type TestApp } from '../support/start-app';

const me = (t: TestApp, cookie: string) => fetch(`${t.url}/auth/me`, { headers: { cookie } });

const backchannel = (t: TestApp, body: string, headers: Record<string, string> = {}) =>
  fetch(`${t.url}/auth/backchannel-logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });

async function expectError(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as Envelope;
  expect(body.error.code).toBe(code);
  expect(body.meta.requestId).toMatch(UUID);
  expect(res.headers.get('cache-control')).toBe('no-store');
}

/** Ends the browser's session at the provider (its end-session page, confirmed). */
async function endProviderSession(browser: OidcBrowser, issuer: string): Promise<void> {
  const page = await browser.request(`${issuer}/session/end`);
  expect(page.status).toBe(200);
  const { action, fields } = formOf(await page.text());
  const done = await browser.request(new URL(action, issuer).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...fields, logout: 'yes' }).toString(),
  });
  expect([200, 302, 303]).toContain(done.status);
}

describe('back-channel logout through the provider, two replicas on one Redis', () => {
  let idp: FakeIdp;
  let redis: SpawnedRedis;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    idp = await startFakeIdp({
      redirectUri: `${TEST_ORIGIN}/auth/callback`,
      postLogoutRedirectUri: `${TEST_ORIGIN}/`,
    });
    redis = await spawnRedis();
    const env = {
      OIDC_ISSUER_URL: idp.issuer,
      OIDC_CLIENT_ID: IDP_CLIENT_ID,
      OIDC_CLIENT_SECRET: IDP_CLIENT_SECRET,
      // Every sign-in started counts against the per-address login limit.
      RATE_LIMIT_LOGIN_LIMIT: '1000',
      REDIS_URL: redis.url,
      SESSION_SECRET: testEnv().SESSION_SECRET as string,
    };
    a = await startTestApp(env);
    b = await startTestApp(env);
    // The provider calls replica B; the sessions were started on A.
    idp.setBackchannelTarget(b.url);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
    await idp?.close();
  });

  it('ending the provider session ends the BFF sessions started from it, and no other', async () => {
    const browser = new OidcBrowser(a.url);
    const cookie = sessionCookieOf(await signInWithOidc(browser, 'ada'));
    const elsewhere = sessionCookieOf(await signInWithOidc(new OidcBrowser(a.url), 'ada'));
    expect((await me(a, cookie)).status).toBe(200);

    const sent = idp.backchannelAnswers.length;
    await endProviderSession(browser, idp.issuer);
    await until(() => idp.backchannelAnswers.length > sent, 10_000);
    expect(idp.backchannelAnswers.slice(sent)).toEqual([{ status: 200, cacheControl: 'no-store' }]);
    expect((await me(a, cookie)).status).toBe(401);
    expect((await me(b, cookie)).status).toBe(401);
    // Another browser's provider session (another sid) is untouched.
    expect((await me(a, elsewhere)).status).toBe(200);

    const audit = a.logs() + b.logs();
    expect(audit).toMatch(
      /"audit":true[^\n]*"event":"backchannel.logout"|"event":"backchannel.logout"[^\n]*"audit":true/,
    );

    // The same logout token again, to the other replica: a replay, refused.
    const body = idp.backchannelBodies.at(-1) as string;
    await expectError(await backchannel(a, body), 400, 'BAD_REQUEST');

    // Nothing of the token in any log line.
    const token = new URLSearchParams(body).get('logout_token') as string;
    expect(token).toMatch(/^eyJ/);
    for (const part of token.split('.')) expect(a.logs()).not.toContain(part);
  });

  it('answers 200 with Cache-Control: no-store for a valid token, never asking for Origin or X-CSRF', async () => {
    const browser = new OidcBrowser(a.url);
    await signInWithOidc(browser, 'grace');
    const sent = idp.backchannelAnswers.length;
    idp.setBackchannelTarget(a.url);
    await endProviderSession(browser, idp.issuer);
    await until(() => idp.backchannelAnswers.length > sent, 10_000);
    expect(idp.backchannelAnswers.slice(sent)).toEqual([{ status: 200, cacheControl: 'no-store' }]);
    idp.setBackchannelTarget(b.url);
  });

  it('refuses what is not a valid logout token with 400 BAD_REQUEST, and ends nothing', async () => {
    const cookie = sessionCookieOf(await signInWithOidc(new OidcBrowser(a.url), 'ada'));
    const forged = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({ iss: idp.issuer, aud: IDP_CLIENT_ID, sub: 'ada' }),
    ).toString('base64url')}.`;
    for (const body of ['', 'logout_token=', 'logout_token=not-a-jwt', `logout_token=${forged}`]) {
      await expectError(await backchannel(b, body), 400, 'BAD_REQUEST');
    }
    // Cross-site headers change nothing: the token alone decides.
    await expectError(
      await backchannel(b, `logout_token=${forged}`, { origin: 'https://evil.example' }),
      400,
      'BAD_REQUEST',
    );
    expect((await me(a, cookie)).status).toBe(200);
  });

  it('answers a form body silent for 10 s with 408 REQUEST_TIMEOUT and closes the connection', async () => {
    const head = [
      'POST /auth/backchannel-logout HTTP/1.1',
      'Host: x',
      'Content-Type: application/x-www-form-urlencoded',
      'Content-Length: 100',
      '\r\n',
    ].join('\r\n');
    expectBodyTimeout(await openRaw(a.url, `${head}logout_token=`, 20_000).answer);
  }, 30_000);
});

describe('back-channel logout without OIDC', () => {
  it('is 404 NOT_FOUND', async () => {
    const t = await startTestApp();
    try {
      await expectError(await backchannel(t, 'logout_token=x'), 404, 'NOT_FOUND');
    } finally {
      await t.close();
    }
  });
});

describe('back-channel logout while the store fails, and far-future tokens', () => {
  let idp: FakeIdp;
  let redis: SpawnedRedis;
  let t: TestApp;
  beforeAll(async () => {
    idp = await startFakeIdp({
      redirectUri: `${TEST_ORIGIN}/auth/callback`,
      postLogoutRedirectUri: `${TEST_ORIGIN}/`,
    });
    redis = await spawnRedis();
    t = await startTestApp({
      OIDC_ISSUER_URL: idp.issuer,
      OIDC_CLIENT_ID: IDP_CLIENT_ID,
      OIDC_CLIENT_SECRET: IDP_CLIENT_SECRET,
      // Every sign-in started counts against the per-address login limit.
      RATE_LIMIT_LOGIN_LIMIT: '1000',
      REDIS_URL: redis.url,
    });
  });
  afterAll(async () => {
    redis?.resume();
    await t?.close();
    await redis?.stop();
    await idp?.close();
  });

  it('a delivery that failed with 503 while Redis was frozen works when delivered again', async () => {
    const cookie = sessionCookieOf(await signInWithOidc(new OidcBrowser(t.url), 'alan'));
    const body = `logout_token=${await idp.signLogoutToken({ sub: 'alan' })}`;
    redis.pause();
    try {
      await expectError(await backchannel(t, body), 503, 'SERVICE_UNAVAILABLE');
    } finally {
      redis.resume();
    }
    // Whatever the frozen Redis was sent meanwhile has run by now.
    await until(async () => (await me(t, cookie)).status === 200, 10_000);
    const again = await backchannel(t, body);
    expect(again.status).toBe(200);
    expect((await me(t, cookie)).status).toBe(401);
    // Used now: a replay is refused.
    await expectError(await backchannel(t, body), 400, 'BAD_REQUEST');
  }, 30_000);

  it('accepts a token whose exp is far in the future (1e16), once', async () => {
    const cookie = sessionCookieOf(await signInWithOidc(new OidcBrowser(t.url), 'grace'));
    const body = `logout_token=${await idp.signLogoutToken({ sub: 'grace', exp: 1e16 })}`;
    const res = await backchannel(t, body);
    expect(res.status).toBe(200);
    expect((await me(t, cookie)).status).toBe(401);
    await expectError(await backchannel(t, body), 400, 'BAD_REQUEST');
  });
});
