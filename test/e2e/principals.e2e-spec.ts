import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MetricsServer } from '../../src/observability/metrics-server';
import {
  IDP_CLIENT_ID,
  IDP_CLIENT_SECRET,
  startFakeIdp,
  type FakeIdp,
} from '../fakes/oidc-provider';
import { startFakeGather, type FakeGather } from '../fakes/fake-gather';
import { freePort } from '../../src/http/free-port';
import { OidcBrowser, sessionCookieOf, signInWithOidc } from '../support/oidc-browser';
import { spawnRedis, type SpawnedRedis } from '../support/redis';
import { signIn, writeUsersFile } from '../support/session';
import { ANSWER_WITHIN_MS } from '../support/spa';
import { startTestApp, TEST_ORIGIN, type TestApp } from '../support/start-app';

/*
 * A local user and an OIDC account with the same id (`ada`: the fake provider's login is the
 * account's `sub`) are two people everywhere but the admin routes (docs/contract.md, Sessions:
 * "Local and OIDC users").
 */
const LOCAL_ADA = {
  username: 'ada',
  password: 'local ada password',
  name: 'Local Ada',
  email: 'local-ada@example.test',
};
const ADMIN_TOKEN = 'admin-token-0123456789-abcdefghijklmnop';
const USER_LIMIT = 3;

interface Listed {
  sessions: Array<{ id: string; current: boolean; userAgent: string | null }>;
}

const me = (t: TestApp, cookie: string) => fetch(`${t.url}/auth/me`, { headers: { cookie } });
const listSessions = async (t: TestApp, cookie: string): Promise<Listed> => {
  const res = await fetch(`${t.url}/auth/sessions`, { headers: { cookie } });
  expect(res.status).toBe(200);
  return (await res.json()) as Listed;
};
const postAuth = (t: TestApp, path: string, cookie: string, method = 'POST') =>
  fetch(`${t.url}${path}`, { method, headers: { cookie, origin: TEST_ORIGIN, 'x-csrf': '1' } });
const proxied = (t: TestApp, cookie: string) =>
  fetch(`${t.url}/api/gather/questions`, { headers: { cookie, 'x-csrf': '1' } });
const admin = (t: TestApp, method: string) =>
  fetch(
    `http://127.0.0.1:${t.app.get(MetricsServer).address()?.port as number}/admin/users/ada/sessions`,
    {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
    },
  );

let idp: FakeIdp;
let gather: FakeGather;
let usersFile: string;
beforeAll(async () => {
  idp = await startFakeIdp({
    redirectUri: `${TEST_ORIGIN}/auth/callback`,
    postLogoutRedirectUri: `${TEST_ORIGIN}/`,
  });
  gather = await startFakeGather();
  usersFile = await writeUsersFile([LOCAL_ADA]);
});
afterAll(async () => {
  await idp?.close();
  await gather?.close();
  await rm(dirname(usersFile), { recursive: true, force: true });
});

describe.each(['memory', 'redis'])('local ada and OIDC ada, %s store', (store) => {
  let redis: SpawnedRedis | undefined;
  let t: TestApp;
  beforeAll(async () => {
    if (store === 'redis') redis = await spawnRedis();
    t = await startTestApp({
      OIDC_ISSUER_URL: idp.issuer,
      OIDC_CLIENT_ID: IDP_CLIENT_ID,
      OIDC_CLIENT_SECRET: IDP_CLIENT_SECRET,
      AUTH_LOCAL_USERS_FILE: usersFile,
      GATHER_BASE_URL: gather.baseUrl,
      RATE_LIMIT_USER_LIMIT: String(USER_LIMIT),
      RATE_LIMIT_LOGIN_LIMIT: '1000',
      ADMIN_TOKEN,
      METRICS_PORT: String(await freePort()),
      ...(redis ? { REDIS_URL: redis.url } : {}),
    });
    idp.setBackchannelTarget(t.url);
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  const signInLocal = () => signIn(t, LOCAL_ADA.username, LOCAL_ADA.password);
  const signInOidc = async () =>
    sessionCookieOf(await signInWithOidc(new OidcBrowser(t.url), 'ada'));

  it('lists and ends only their own sessions; the admin routes see both', async () => {
    const local = await signInLocal();
    const oidc = await signInOidc();
    expect(((await (await me(t, local)).json()) as { user: { id: string } }).user.id).toBe('ada');
    expect(((await (await me(t, oidc)).json()) as { user: { id: string } }).user.id).toBe('ada');

    const localList = await listSessions(t, local);
    const oidcList = await listSessions(t, oidc);
    expect(localList.sessions).toHaveLength(1);
    expect(oidcList.sessions).toHaveLength(1);
    expect(localList.sessions[0]?.current).toBe(true);
    expect(oidcList.sessions[0]?.current).toBe(true);
    // Neither may end the other's.
    const localHandle = localList.sessions[0]?.id as string;
    const res = await postAuth(t, `/auth/sessions/${localHandle}`, oidc, 'DELETE');
    expect(res.status).toBe(404);
    expect((await me(t, local)).status).toBe(200);

    const listed = await admin(t, 'GET');
    expect(listed.status).toBe(200);
    const all = ((await listed.json()) as Listed).sessions.map((s) => s.id).sort();
    expect(all).toEqual([localHandle, oidcList.sessions[0]?.id].sort());
    const ended = await admin(t, 'DELETE');
    expect(await ended.json()).toEqual({ ended: 2 });
    expect((await me(t, local)).status).toBe(401);
    expect((await me(t, oidc)).status).toBe(401);
  });

  it('signing out everywhere ends only the signed-in kind', async () => {
    const local = await signInLocal();
    const oidc = await signInOidc();
    expect((await postAuth(t, '/auth/logout?everywhere=true', oidc)).status).toBe(200);
    expect((await me(t, oidc)).status).toBe(401);
    expect((await me(t, local)).status).toBe(200);
    await postAuth(t, '/auth/logout', local);
  });

  it("an OIDC sign-in in a browser signed in as local ada is someone else's: the local session ends", async () => {
    const local = await signInLocal();
    const browser = new OidcBrowser(t.url);
    const [name, value] = local.split('=') as [string, string];
    browser.jar(TEST_ORIGIN).set(name, value);
    const oidc = sessionCookieOf(await signInWithOidc(browser, 'ada'));
    expect((await me(t, oidc)).status).toBe(200);
    expect((await me(t, local)).status).toBe(401);
    await postAuth(t, '/auth/logout', oidc);
  });

  it('a back-channel logout naming only sub=ada ends OIDC ada, never local ada', async () => {
    const local = await signInLocal();
    const oidc = await signInOidc();
    const token = await idp.signLogoutToken({ sub: 'ada' });
    const res = await fetch(`${t.url}/auth/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `logout_token=${token}`,
    });
    expect(res.status).toBe(200);
    expect((await me(t, oidc)).status).toBe(401);
    expect((await me(t, local)).status).toBe(200);
    await postAuth(t, '/auth/logout', local);
  });

  it('counts the per-user rate limit for each apart', async () => {
    const local = await signInLocal();
    const oidc = await signInOidc();
    for (let i = 0; i < USER_LIMIT; i++) expect((await proxied(t, oidc)).status).toBe(200);
    expect((await proxied(t, oidc)).status).toBe(429);
    expect((await proxied(t, local)).status).toBe(200);
    await postAuth(t, '/auth/logout', local);
    await postAuth(t, '/auth/logout', oidc);
  });
});
