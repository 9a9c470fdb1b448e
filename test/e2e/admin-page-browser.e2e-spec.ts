import type { Browser, BrowserContext, Page } from 'playwright-core';
import { fingerprint } from '../../src/config/key-format';
import { freePort } from '../../src/http/free-port';
import { startFakeGather, gatherError, type FakeGather } from '../fakes/fake-gather';
import { describeInChromium, launchChromium } from '../support/browser';
import { leaks, watch } from '../support/browser-watch';
import { configDirWith } from '../support/config-dir';
import { send, type Envelope } from '../support/http';
import { spawnRedis, type SpawnedRedis } from '../support/redis';
import { signIn, writeUsersFile } from '../support/session';
import { sidOf, SPA_HEADERS } from '../support/spa';
import { metricsUrl, startTestApp, testEnv, TEST_KEY, type TestApp } from '../support/start-app';
import { until } from '../support/until';

/** Where the page with its charts is saved as a PNG when set (the README's screenshot). */
const SCREENSHOT = process.env.GATHER_BFF_ADMIN_SCREENSHOT;

const ADMIN_TOKEN = 'admin-page-token-0123456789abcdefgh';
const ROTATED_TOKEN = 'admin-page-rotated-0123456789abcdef';
const PASSWORD = 'correct horse battery staple';
const GREEN_KEY = 'qapi_greenTeamKEY0123456789abcdef';
const AGENT = 'Mozilla/5.0 (X11; Linux x86_64) ada-laptop';
/** The usage routes show a call within 10 s (docs/capacity.md, "Usage"). */
const VISIBLE_WITHIN_MS = 10_000;
/** The page's own retry, after a restart: its waits add up to 14 s before the fourth try. */
const RECOVERS_WITHIN_MS = 30_000;

/** The page's words, as an operator reads them. */
const REFUSED = 'The admin token was refused (wrong, or rotated): enter it again.';
const USAGE_DOWN = 'The usage store is unavailable; these figures come back when it answers.';
const SESSIONS_DOWN = 'The session store is unavailable; try again when it answers.';
const OFF = 'This BFF no longer serves the admin routes (is ADMIN_TOKEN still set?).';

const today = (): string => new Date().toISOString().slice(0, 10);

/** What the browser reported while the page ran, besides the answers it was built to handle. */
interface Trouble {
  pageErrors: string[];
  consoleErrors: string[];
}

/** The page's own CSP reports, gathered in the page from its first script on. */
const RECORD_VIOLATIONS = `
  window.cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) =>
    window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
`;

const violations = (page: Page): Promise<string[]> =>
  page.evaluate<string[]>('window.cspViolations');

/**
 * The pixels of `canvas` in `colour` (#rrggbb, within a small tolerance for anti-aliasing): the
 * chart's series drawn, not only its axes.
 */
function pixelsIn(page: Page, canvas: string, colour: string): Promise<number> {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
  // A string: the test's TypeScript has no DOM types for a function's body.
  return page.evaluate<number>(`(() => {
    const canvas = document.querySelector(${JSON.stringify(canvas)});
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i] - ${r}) < 12 && Math.abs(data[i + 1] - ${g}) < 12 &&
          Math.abs(data[i + 2] - ${b}) < 12 && data[i + 3] > 200) n++;
    }
    return n;
  })()`);
}

const stateOf = (page: Page, panel: string) =>
  page.locator(`#${panel} .state`).textContent({ timeout: 5000 });

/** Waits until the panel says `text`. */
const untilState = (page: Page, panel: string, text: string, timeout = 10_000) =>
  page.locator(`#${panel} .state`, { hasText: text }).waitFor({ state: 'visible', timeout });

async function enterToken(page: Page, token: string): Promise<void> {
  await page.fill('#token', token);
  await page.click('#token-form button[type=submit]');
}

/** Each row of a table body: its class and its cells, as shown. */
async function rowsOf(page: Page, body: string): Promise<string[][]> {
  const rows = page.locator(`#${body} tr`);
  const cells: string[][] = [];
  for (let i = 0; i < (await rows.count()); i++) {
    cells.push(await rows.nth(i).locator('td').allTextContents());
  }
  return cells;
}

const classesOf = (page: Page, body: string): Promise<(string | null)[]> =>
  page
    .locator(`#${body} tr`)
    .all()
    .then((rows) => Promise.all(rows.map((r) => r.getAttribute('class'))));

describeInChromium("the operators' page in Chromium", () => {
  let browser: Browser;
  let redis: SpawnedRedis;
  let fake: FakeGather;
  let app: TestApp;
  let context: BrowserContext;
  let page: Page;
  let watcher: ReturnType<typeof watch>;
  let metricsPort: number;
  let ada: string;
  let adaHandles: string[];
  const trouble: Trouble = { pageErrors: [], consoleErrors: [] };
  const env = {
    SESSION_SECRET: testEnv().SESSION_SECRET as string,
    GREEN_KEY,
  };
  let configDir: string;
  let usersFile: string;

  const start = (token: string | undefined) =>
    startTestApp(
      {
        ...env,
        GATHER_BASE_URL: fake.baseUrl,
        AUTH_LOCAL_USERS_FILE: usersFile,
        REDIS_URL: redis.url,
        ADMIN_TOKEN: token,
        METRICS_PORT: String(metricsPort),
      },
      configDir,
    );

  const proxied = (cookie: string) =>
    send(app.url, { path: '/api/gather/questions', headers: { ...SPA_HEADERS, cookie } });

  beforeAll(async () => {
    browser = await launchChromium();
    redis = await spawnRedis();
    fake = await startFakeGather();
    usersFile = await writeUsersFile([
      { username: 'ada', password: PASSWORD, name: 'Ada', email: 'ada@example.com', team: 'red' },
      { username: 'bob', password: PASSWORD, name: 'Bob', email: 'bob@example.com', team: 'blue' },
    ]);
    // A team key nobody calls with: the keys table marks it unused.
    configDir = await configDirWith('gather:\n  teamKeys:\n    green: { env: GREEN_KEY }');
    metricsPort = await freePort();
    app = await start(ADMIN_TOKEN);

    // Traffic: ada (red) 3 calls; bob (blue) 1 call, then Gather asks to wait (an error, and the
    // main key paused for two minutes), then 1 call the pause refuses.
    ada = await signIn(app, 'ada', PASSWORD, { 'user-agent': AGENT });
    for (let i = 0; i < 3; i++) expect((await proxied(ada)).status).toBe(200);
    const bob = await signIn(app, 'bob', PASSWORD);
    expect((await proxied(bob)).status).toBe(200);
    fake.handle = (_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '120' });
      res.end(gatherError('RATE_LIMITED', 'Slow down'));
    };
    expect((await proxied(bob)).status).toBe(429);
    fake.reset();
    expect((await proxied(bob)).json<Envelope>().error.code).toBe('UPSTREAM_THROTTLED');
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    await until(
      async () => {
        const res = await fetch(`${metricsUrl(app)}/admin/usage?by=key`, { headers: admin });
        const { rows } = (await res.json()) as { rows: { calls: number; throttled: number }[] };
        return rows[0]?.calls === 5 && rows[0]?.throttled === 1;
      },
      VISIBLE_WITHIN_MS,
      200,
    );
    const listed = await fetch(`${metricsUrl(app)}/admin/users/ada/sessions`, { headers: admin });
    adaHandles = ((await listed.json()) as { sessions: { id: string }[] }).sessions.map(
      (s) => s.id,
    );
    expect(adaHandles).toHaveLength(1);

    context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await context.addInitScript(RECORD_VIOLATIONS);
    watcher = watch(context);
    page = await context.newPage();
    page.on('pageerror', (e) => trouble.pageErrors.push(e.message));
    page.on('console', (message) => {
      // The browser reports each refused or failed call the page then handles (401, 503, a
      // closed port): those are the cases under test, and the page's words are checked instead.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        trouble.consoleErrors.push(message.text());
      }
    });
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${metricsUrl(app)}/admin/`);
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await app?.close();
    await fake?.close();
    await redis?.stop();
  });

  afterEach(async () => {
    expect(trouble).toEqual({ pageErrors: [], consoleErrors: [] });
    expect(await violations(page)).toEqual([]);
  });

  it('asks for the token, and says so when it is refused', async () => {
    await page.locator('#sign-in').waitFor({ state: 'visible' });
    expect(await page.isVisible('#dashboard')).toBe(false);
    await enterToken(page, 'not-the-admin-token-0123456789abcdef');
    await page.locator('#notice', { hasText: REFUSED }).waitFor({ state: 'visible' });
    expect(await page.isVisible('#sign-in')).toBe(true);
    expect(await page.isVisible('#dashboard')).toBe(false);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect(await page.inputValue('#token')).toBe('');
  }, 30_000);

  it('draws calls per day for the organisation and per team, from the usage routes', async () => {
    await enterToken(page, ADMIN_TOKEN);
    await page.locator('#org-chart canvas').waitFor();
    await page.locator('#team-chart canvas').waitFor();
    expect(await page.isVisible('#notice')).toBe(false);
    // The token stays in this tab's storage, not in the form.
    expect(await page.evaluate('Object.values(sessionStorage)')).toEqual([ADMIN_TOKEN]);
    expect(await page.inputValue('#token')).toBe('');

    const org = page.locator('#org-chart');
    expect(await org.getAttribute('data-points')).toBe('30');
    expect(JSON.parse((await org.getAttribute('data-totals')) ?? '')).toEqual({
      Calls: 5,
      Errors: 1,
      Refused: 1,
    });
    const team = page.locator('#team-chart');
    expect(await team.getAttribute('data-points')).toBe('30');
    expect(JSON.parse((await team.getAttribute('data-totals')) ?? '')).toEqual({
      blue: 2,
      red: 3,
    });
    // uPlot's legend names each series; each series is drawn in its colour.
    expect(await page.locator('#team-chart .u-legend').innerText()).toMatch(/blue[\s\S]*red/);
    expect(await pixelsIn(page, '#org-chart canvas', '#2563eb')).toBeGreaterThan(20);
    expect(await pixelsIn(page, '#team-chart canvas', '#2563eb')).toBeGreaterThan(20);
    expect(await pixelsIn(page, '#team-chart canvas', '#dc2626')).toBeGreaterThan(20);
    expect(await stateOf(page, 'org-panel')).toBe('');
  }, 30_000);

  it('lists the busiest users today and this month, and the keys with paused and unused marked', async () => {
    expect(await rowsOf(page, 'users-today')).toEqual([
      ['ada', '3', '0', '0'],
      ['bob', '2', '1', '1'],
    ]);
    expect(await rowsOf(page, 'users-month')).toEqual([
      ['ada', '3', '0', '0'],
      ['bob', '2', '1', '1'],
    ]);
    const keys = await rowsOf(page, 'keys');
    expect(keys).toEqual([
      [
        fingerprint(TEST_KEY),
        'main',
        'env',
        expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/),
        expect.stringMatching(new RegExp(`^${today()} \\d\\d:\\d\\d:\\d\\d UTC$`)),
        '5',
        expect.stringMatching(/^Paused until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/),
      ],
      [
        fingerprint(GREEN_KEY),
        'team:green',
        'env',
        expect.stringMatching(/UTC$/),
        'never',
        '0',
        'Unused',
      ],
    ]);
    expect(await classesOf(page, 'keys')).toEqual(['paused', 'unused']);
  }, 30_000);

  it("lists a user's sessions without their ids, and ends them: the user's next call is 401", async () => {
    await page.fill('#user-id', 'ada');
    await page.click('#user-form button[type=submit]');
    await untilState(page, 'sessions-panel', '1 live session for ada.');
    expect(await rowsOf(page, 'sessions')).toEqual([
      [expect.stringMatching(/UTC$/), expect.stringMatching(/UTC$/), AGENT],
    ]);
    const html = await page.content();
    for (const handle of adaHandles) expect(html).not.toContain(handle);
    expect(html).not.toContain(sidOf(ada));
    if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: true });

    expect(await page.textContent('#end-sessions')).toBe('End this session');
    await page.click('#end-sessions');
    await untilState(page, 'sessions-panel', 'Ended 1 session. 0 live sessions for ada.');
    expect(await page.isVisible('#sessions-table')).toBe(false);
    const next = await proxied(ada);
    expect(next.status).toBe(401);
    expect(next.json<Envelope>().error.code).toBe('UNAUTHORIZED');
  }, 30_000);

  it('says the BFF did not answer while it restarts, that the admin routes are off, then that a rotated token is refused', async () => {
    await app.close();
    await page.click('#refresh');
    await page
      .locator('#notice-text', { hasText: /^The BFF did not answer; retrying in \d+ s…/ })
      .waitFor({ state: 'visible' });
    await untilState(page, 'org-panel', 'The BFF did not answer.');
    expect(await page.isVisible('#retry')).toBe(true);

    // Back without ADMIN_TOKEN: the page says what that means.
    app = await start(undefined);
    await page
      .locator('#notice-text', { hasText: OFF })
      .waitFor({ state: 'visible', timeout: RECOVERS_WITHIN_MS });
    await untilState(page, 'keys-panel', OFF);

    await app.close();
    app = await start(ROTATED_TOKEN);
    await page.click('#retry');
    await page.locator('#notice', { hasText: REFUSED }).waitFor({ state: 'visible' });
    expect(await page.isVisible('#sign-in')).toBe(true);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    // Nothing shown with the old token stays on the page.
    expect(await page.locator('canvas').count()).toBe(0);
    expect(await page.locator('#keys tr').count()).toBe(0);

    await enterToken(page, ROTATED_TOKEN);
    await page.locator('#org-chart canvas').waitFor();
    expect(await page.isVisible('#notice')).toBe(false);
  }, 60_000);

  it('says the usage and session stores are unavailable while Redis is down, then "No traffic yet"', async () => {
    await page.fill('#user-id', 'bob');
    await page.click('#user-form button[type=submit]');
    await untilState(page, 'sessions-panel', '1 live session for bob.');

    await redis.stop();
    await page.click('#refresh');
    for (const panel of ['org-panel', 'team-panel', 'users-panel', 'keys-panel']) {
      await untilState(page, panel, USAGE_DOWN);
    }
    await untilState(page, 'sessions-panel', SESSIONS_DOWN);
    // Each panel says it; the page itself goes on.
    expect(await page.isVisible('#notice')).toBe(false);
    expect(await page.locator('canvas').count()).toBe(0);

    // Back, empty: the BFF reconnects on its own.
    await redis.start();
    const loading = page.locator('.state', { hasText: /^Loading…$/ });
    await until(
      async () => {
        await page.click('#refresh');
        // Polled from the test, not by waitForFunction: its predicate is an eval the page's CSP refuses.
        await until(async () => (await loading.count()) === 0);
        return (await stateOf(page, 'org-panel')) === 'No traffic yet.';
      },
      RECOVERS_WITHIN_MS,
      500,
    );
    expect(await stateOf(page, 'users-panel')).toBe('No traffic yet.');
    expect(await stateOf(page, 'team-panel')).toBe('No team traffic yet.');
    expect(await stateOf(page, 'sessions-panel')).toBe('0 live sessions for bob.');
  }, 60_000);

  it('forgets the token and what it showed on Sign out', async () => {
    await page.click('#sign-out');
    await page.locator('#sign-in').waitFor({ state: 'visible' });
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect(await page.isVisible('#dashboard')).toBe(false);
    expect(await page.locator('#keys tr').count()).toBe(0);
    expect(await page.locator('#sessions tr').count()).toBe(0);
  }, 30_000);

  it('shows no key, admin token or session id, and no answer holds one', async () => {
    await watcher.snapshot(page, 'signed out');
    const seen = await watcher.settled();
    const places = seen.map((s) => s.where).join('\n');
    // The sweep covered the page, its files and every route it calls.
    for (const expected of [
      /response 200 GET \S+\/admin\/ body/,
      /response 200 GET \S+\/admin\/admin\.[0-9a-f]{12}\.js body/,
      /response 200 GET \S+\/admin\/uPlot\.iife\.min\.[0-9a-f]{12}\.js body/,
      /response 200 GET \S+\/admin\/usage\?by=key\S* body/,
      /response 200 GET \S+\/admin\/keys body/,
      /response 200 GET \S+\/admin\/users\/ada\/sessions body/,
      /response 200 DELETE \S+\/admin\/users\/ada\/sessions body/,
      /response 401 GET \S+\/admin\/keys body/,
      /response 503 GET \S+\/admin\/usage\S* body/,
    ]) {
      expect(places).toMatch(expected);
    }
    // The token goes out in each call's Authorization header and lives in the tab's storage
    // while signed in; nowhere else.
    const shown = seen.filter((s) => !s.where.startsWith('request '));
    expect(leaks(shown, ADMIN_TOKEN)).toEqual([]);
    expect(leaks(shown, ROTATED_TOKEN)).toEqual([]);
    expect(leaks(seen, TEST_KEY)).toEqual([]);
    expect(leaks(seen, GREEN_KEY)).toEqual([]);
    expect(leaks(seen, sidOf(ada))).toEqual([]);
    const text = seen
      .filter((s) => !s.where.includes('/admin/users/'))
      .map((s) => s.text)
      .join('\n');
    for (const handle of adaHandles) expect(text).not.toContain(handle);
  }, 30_000);

  it('would see a CSP violation or a page error', async () => {
    const probe = await context.newPage();
    const errors: string[] = [];
    probe.on('pageerror', (e) => errors.push(e.message));
    await probe.goto(`${metricsUrl(app)}/admin/`);
    await probe.evaluate(`(() => {
      const s = document.createElement('script');
      s.textContent = 'window.inlineRan = true';
      document.head.append(s);
      setTimeout(() => { throw new Error('probe'); });
    })()`);
    await until(async () => (await violations(probe)).length > 0 && errors.length > 0);
    expect(await violations(probe)).toEqual([expect.stringMatching(/^script-src-elem inline$/)]);
    expect(await probe.evaluate('window.inlineRan')).toBeUndefined();
    expect(errors).toEqual(['probe']);
    await probe.close();
  }, 30_000);
});
