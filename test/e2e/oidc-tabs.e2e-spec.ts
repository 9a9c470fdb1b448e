import {
  IDP_CLIENT_ID,
  IDP_CLIENT_SECRET,
  startFakeIdp,
  type FakeIdp,
} from '../fakes/oidc-provider';
import {
  OidcBrowser,
  sessionCookieOf,
  setCookiesOf,
  startOidcLogin,
  throughProvider,
  transactionCookiesIn,
} from '../support/oidc-browser';
import { startTestApp, TEST_ORIGIN, type TestApp } from '../support/start-app';

const me = (t: TestApp, cookie: string) => fetch(`${t.url}/auth/me`, { headers: { cookie } });
const inProgress = (browser: OidcBrowser) => transactionCookiesIn(browser.jar(TEST_ORIGIN));

describe('OIDC sign-in in several tabs at once', () => {
  let idp: FakeIdp;
  let t: TestApp;
  beforeAll(async () => {
    idp = await startFakeIdp({
      redirectUri: `${TEST_ORIGIN}/auth/callback`,
      postLogoutRedirectUri: `${TEST_ORIGIN}/`,
    });
    t = await startTestApp({
      OIDC_ISSUER_URL: idp.issuer,
      OIDC_CLIENT_ID: IDP_CLIENT_ID,
      OIDC_CLIENT_SECRET: IDP_CLIENT_SECRET,
      // Every sign-in started counts against the per-address login limit.
      RATE_LIMIT_LOGIN_LIMIT: '1000',
    });
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  it('completes every tab’s sign-in, in any order, and a later one does not end the earlier session', async () => {
    const browser = new OidcBrowser(t.url);
    const tab1 = await startOidcLogin(browser, '/one');
    const tab2 = await startOidcLogin(browser, '/two');
    expect(inProgress(browser)).toHaveLength(2);
    const callback1 = await throughProvider(browser, tab1, 'ada');
    const callback2 = await throughProvider(browser, tab2, 'ada');

    const first = await browser.request(callback2);
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe('/two');
    // Its own transaction cookie is cleared; the other tab's is left alone.
    const cleared = setCookiesOf(first).filter((c) => c.name.startsWith('gather_oidc_'));
    expect(cleared.map((c) => c.deletes)).toEqual([true]);
    expect(inProgress(browser)).toHaveLength(1);
    const cookie2 = sessionCookieOf(first);

    const second = await browser.request(callback1);
    expect(second.status).toBe(302);
    expect(second.headers.get('location')).toBe('/one');
    expect(inProgress(browser)).toEqual([]);
    const cookie1 = sessionCookieOf(second);

    expect(cookie1).not.toBe(cookie2);
    expect((await me(t, cookie1)).status).toBe(200);
    expect((await me(t, cookie2)).status).toBe(200);
    // Each transaction was single-use.
    expect((await browser.request(callback1)).status).toBe(401);
  });

  it('keeps at most five sign-ins in progress: the oldest is dropped', async () => {
    const browser = new OidcBrowser(t.url);
    const urls: string[] = [];
    for (let i = 0; i < 6; i++) urls.push(await startOidcLogin(browser, `/tab${i}`));
    expect(inProgress(browser)).toHaveLength(5);
    const oldest = await throughProvider(browser, urls[0] as string, 'ada');
    const newest = await throughProvider(browser, urls[5] as string, 'ada');
    const res = await browser.request(newest);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/tab5');
    expect((await browser.request(oldest)).status).toBe(401);
  });

  it('keeps the sign-ins in progress to a few kB of cookies, however long their returnTo', async () => {
    const browser = new OidcBrowser(t.url);
    const urls: string[] = [];
    for (let i = 0; i < 5; i++)
      urls.push(await startOidcLogin(browser, `/${i}${'x'.repeat(2000)}`));
    const held = inProgress(browser);
    expect(held.length).toBeGreaterThanOrEqual(1);
    expect(
      held.reduce((sum, [name, value]) => sum + name.length + value.length, 0),
    ).toBeLessThanOrEqual(3800);
    // The newest always stays and completes.
    const res = await browser.request(await throughProvider(browser, urls[4] as string, 'ada'));
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`/4${'x'.repeat(2000)}`);
  });

  it('keeps every sign-in of tabs that start at the same moment (no cookie overwritten)', async () => {
    const browser = new OidcBrowser(t.url);
    // Sent together, as a browser restoring its tabs does: each request carries the same cookies.
    const returns = ['/a', '/b', '/c'];
    const urls = await Promise.all(returns.map((to) => startOidcLogin(browser, to)));
    expect(inProgress(browser)).toHaveLength(3);
    for (const [i, url] of urls.entries()) {
      const res = await browser.request(await throughProvider(browser, url, 'ada'));
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(returns[i]);
      expect((await me(t, sessionCookieOf(res))).status).toBe(200);
    }
    expect(inProgress(browser)).toEqual([]);
  });
});
