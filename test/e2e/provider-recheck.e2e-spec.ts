import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { startFakeGather, type FakeGather } from '../fakes/fake-gather';
import {
  IDP_CLIENT_ID,
  IDP_CLIENT_SECRET,
  startFakeIdp,
  type FakeIdp,
} from '../fakes/oidc-provider';
import { freePort } from '../../src/http/free-port';
import { UUID, type Envelope } from '../support/http';
import { OidcBrowser, sessionCookieOf, signInWithOidc } from '../support/oidc-browser';
import { spawnRedis, type SpawnedRedis } from '../support/redis';
import { sidOf } from '../support/spa';
import { startTestApp, TEST_ORIGIN, testEnv, type TestApp } from '../support/start-app';
import { MetricsServer } from '../../src/observability/metrics-server';

const CHECK_SECONDS = 1;

const proxied = (t: TestApp, cookie: string) =>
  fetch(`${t.url}/api/gather/questions`, {
    headers: { cookie, origin: TEST_ORIGIN, 'x-csrf': '1' },
  });

describe('provider re-check with refresh tokens, two replicas on one Redis', () => {
  let idp: FakeIdp;
  let gather: FakeGather;
  let redis: SpawnedRedis;
  let a: TestApp;
  let b: TestApp;
  /** Every answer body and header the BFF sent in these tests, for the leak scan. */
  const seen: string[] = [];
  const record = async (res: Response): Promise<Response> => {
    const text = await res.clone().text();
    seen.push(text, JSON.stringify([...res.headers]));
    return res;
  };

  beforeAll(async () => {
    idp = await startFakeIdp({
      redirectUri: `${TEST_ORIGIN}/auth/callback`,
      postLogoutRedirectUri: `${TEST_ORIGIN}/`,
    });
    gather = await startFakeGather();
    redis = await spawnRedis();
    const env = {
      OIDC_ISSUER_URL: idp.issuer,
      OIDC_CLIENT_ID: IDP_CLIENT_ID,
      OIDC_CLIENT_SECRET: IDP_CLIENT_SECRET,
      // Every sign-in started counts against the per-address login limit.
      RATE_LIMIT_LOGIN_LIMIT: '1000',
      OIDC_SCOPES: 'openid profile email offline_access',
      OIDC_SESSION_CHECK_SECONDS: String(CHECK_SECONDS),
      GATHER_BASE_URL: gather.baseUrl,
      REDIS_URL: redis.url,
      SESSION_SECRET: testEnv().SESSION_SECRET as string,
    };
    a = await startTestApp({ ...env, METRICS_PORT: String(await freePort()) });
    b = await startTestApp({ ...env, METRICS_PORT: String(await freePort()) });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
    await gather?.close();
    await idp?.close();
  });

  const signIn = async (login: string): Promise<string> => {
    const res = await signInWithOidc(new OidcBrowser(a.url), login);
    await record(res);
    return sessionCookieOf(res);
  };

  it('keeps the refresh token sealed in the session, and refreshes once per interval however many requests and replicas', async () => {
    const cookie = await signIn('ada');
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      const stored = (await admin.get(`gbff:sess:${sidOf(cookie)}`)) as string;
      const session = JSON.parse(stored) as { refreshToken?: string; providerSid?: string };
      expect(session.refreshToken).toMatch(/^r1\.[\w-]+$/);
      expect(typeof session.providerSid).toBe('string');
      // The refresh and access tokens never in the clear (the ID token is the logout hint).
      for (const token of idp.issuedTokens.filter((t) => t.split('.').length !== 3)) {
        expect(stored).not.toContain(token);
      }
    } finally {
      admin.destroy();
    }

    // Within the interval: no refresh.
    const before = idp.refreshes();
    expect((await record(await proxied(a, cookie))).status).toBe(200);
    expect(idp.refreshes()).toBe(before);

    await sleep(CHECK_SECONDS * 1000 + 100);
    const burst = await Promise.all(
      Array.from({ length: 10 }, (_, i) => proxied(i % 2 ? a : b, cookie).then(record)),
    );
    expect(burst.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(idp.refreshes()).toBe(before + 1);
  });

  it('a refusal (account disabled at the provider) ends the session: 401 on that request and every later one, nothing forwarded', async () => {
    const cookie = await signIn('grace');
    expect((await proxied(b, cookie)).status).toBe(200);
    idp.disableAccount('grace');
    await sleep(CHECK_SECONDS * 1000 + 100);
    gather.reset();
    const refused = await record(await proxied(b, cookie));
    expect(refused.status).toBe(401);
    const body = (await refused.json()) as Envelope;
    expect(body.error.code).toBe('UNAUTHORIZED');
    expect(body.meta.requestId).toMatch(UUID);
    expect((await record(await proxied(a, cookie))).status).toBe(401);
    expect((await record(await fetch(`${a.url}/auth/me`, { headers: { cookie } }))).status).toBe(
      401,
    );
    expect(gather.requests).toHaveLength(0);
    const revoked = a
      .logs()
      .split('\n')
      .filter((l) => l.includes('"event":"session.revoked"') && l.includes('"reason":"provider"'))
      .map((l) => JSON.parse(l) as { audit: boolean; requestId?: string; userId?: string });
    // One line, naming the proxied request the refusal answered.
    expect(revoked).toEqual([
      expect.objectContaining({ audit: true, userId: 'grace', requestId: body.meta.requestId }),
    ]);
    const metrics = await (
      await fetch(`http://127.0.0.1:${b.app.get(MetricsServer).address()?.port as number}/metrics`)
    ).text();
    seen.push(metrics);
    expect(metrics).toMatch(/^bff_sessions_ended_total\{reason="provider"\} 1$/m);
  });

  it('checks again one interval after a check, not once a lock expires: a refusal then ends the session', async () => {
    const cookie = await signIn('alan');
    await sleep(CHECK_SECONDS * 1000 + 100);
    const before = idp.refreshes();
    expect((await record(await proxied(a, cookie))).status).toBe(200);
    expect(idp.refreshes()).toBe(before + 1);
    idp.disableAccount('alan');
    await sleep(CHECK_SECONDS * 1000 + 100);
    expect((await record(await proxied(b, cookie))).status).toBe(401);
  });

  it('an unreachable provider does not end the session; a warn line says so', async () => {
    const cookie = await signIn('ada');
    await idp.close();
    await sleep(CHECK_SECONDS * 1000 + 100);
    expect((await record(await proxied(a, cookie))).status).toBe(200);
    const warn = a
      .logs()
      .split('\n')
      .find((line) => line.includes('Provider re-check failed'));
    expect(warn).toBeDefined();
    expect(JSON.parse(warn as string)).toMatchObject({ level: 40 });
  });

  it('no refresh, ID or access token appears in any answer, header, log line or metric', () => {
    const everything = [...seen, a.logs(), b.logs()].join('\n');
    expect(idp.issuedTokens.length).toBeGreaterThan(0);
    for (const token of idp.issuedTokens) {
      // A JWT by its payload and signature; an opaque token whole.
      const parts = token.split('.');
      for (const part of parts.length === 3 ? parts.slice(1) : parts) {
        expect(everything).not.toContain(part);
      }
    }
  });
});
