import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { Browser, Page } from 'playwright-core';
import { DEMO_QUESTION_LIMIT, startDemo, type Demo } from '../../src/demo/start-demo';
import { describeInChromium, launchChromium } from '../support/browser';
import { leaks, watch } from '../support/browser-watch';
import { UUID } from '../support/http';

/** Where the page's teaching state is saved as a PNG when set (the README's screenshot). */
const SCREENSHOT = process.env.GATHER_BFF_DEMO_SCREENSHOT;

/** A demo whose log lines the test can read, with a key the test knows. */
async function demoWithLogs(apiKey?: string): Promise<{ demo: Demo; logs: () => string }> {
  const sink = new PassThrough();
  const lines: string[] = [];
  sink.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
  const demo = await startDemo({ port: 0, host: '127.0.0.1', logDestination: sink, apiKey });
  return { demo, logs: () => lines.join('') };
}

async function signIn(page: Page, demo: Demo, password = demo.password): Promise<void> {
  await page.fill('input[name=username]', demo.username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
}

/** The call log's newest row as its cells' text. */
async function lastCall(page: Page): Promise<string[]> {
  return page.locator('#calls tr').first().locator('td').allTextContents();
}

describeInChromium('the demo in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(() => browser?.close());

  describe('the demo page', () => {
    let demo: Demo;
    let logs: () => string;
    beforeAll(async () => {
      ({ demo, logs } = await demoWithLogs());
    }, 30_000);
    afterAll(() => demo?.close());

    it('signs in and out, logging every call with its status, request id and latency', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(demo.url);
      await page.locator('#signin').waitFor({ state: 'visible' });
      expect(await lastCall(page)).toEqual([
        expect.any(String),
        'GET /auth/me',
        '401',
        'UNAUTHORIZED',
        expect.stringMatching(UUID),
        expect.stringMatching(/^\d+ ms$/),
      ]);

      await signIn(page, demo, 'wrong password');
      await page.locator('#error').waitFor({ state: 'visible' });
      expect(await page.textContent('#error-code')).toBe('INVALID_CREDENTIALS');
      expect((await lastCall(page)).slice(1, 4)).toEqual([
        'POST /auth/login',
        '401',
        'INVALID_CREDENTIALS',
      ]);

      await signIn(page, demo);
      await page.locator('#questions li').first().waitFor();
      expect(await page.locator('#questions li').count()).toBeGreaterThan(0);
      const gatherId = await page.textContent('#gather-request-id');
      expect(gatherId).toMatch(UUID);
      expect(await lastCall(page)).toEqual([
        expect.any(String),
        'GET /api/gather/questions',
        '200',
        '',
        gatherId,
        expect.stringMatching(/^\d+ ms$/),
      ]);

      const cookies = await context.cookies();
      expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([
        ['gather_session', true, 'Strict'],
      ]);

      await page.click('#signout');
      await page.locator('#signin').waitFor({ state: 'visible' });
      expect(await context.cookies()).toEqual([]);
      expect(errors).toEqual([]);
      await context.close();
    }, 60_000);

    it("shows Gather's envelope passed through, a refused key as 502 UPSTREAM_UNAUTHORIZED, and a 429 counting down", async () => {
      const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(demo.url);
      await signIn(page, demo);
      await page.locator('#questions li').first().waitFor();
      const envelope = async () =>
        JSON.parse((await page.textContent('#envelope')) ?? '') as {
          error: { code: string; details?: Record<string, unknown> };
          meta: { requestId: string };
        };

      await page.click('#missing');
      await page.waitForSelector('#outcome-summary:has-text("404")');
      expect(await page.textContent('#outcome-summary')).toBe('404 NOT_FOUND: Resource not found');
      const missing = await envelope();
      expect(missing.error).toEqual({ code: 'NOT_FOUND', message: 'Resource not found' });
      // Gather's own request id, as the BFF logged it on the way through.
      expect(missing.meta.requestId).toMatch(UUID);
      expect(logs()).toContain(`"gatherRequestId":"${missing.meta.requestId}"`);
      expect((await lastCall(page)).slice(1, 5)).toEqual([
        'GET /api/gather/questions/q_99',
        '404',
        'NOT_FOUND',
        missing.meta.requestId,
      ]);

      await page.click('#revoked');
      await page.waitForSelector('#outcome-summary:has-text("502")');
      const revoked = await envelope();
      expect(revoked.error).toEqual({
        code: 'UPSTREAM_UNAUTHORIZED',
        message: expect.any(String) as string,
        details: { upstreamStatus: 401, upstreamCode: 'UNAUTHORIZED' },
      });
      expect(logs()).toContain(`"gatherRequestId":"${revoked.meta.requestId}"`);
      // The server's key was refused, not the session: the page stays signed in.
      expect(await page.isVisible('#session')).toBe(true);
      expect(await page.isVisible('#signin')).toBe(false);

      await page.click('#burst');
      await page.waitForSelector('#outcome-summary:has-text("calls at once")');
      const summary = (await page.textContent('#outcome-summary')) ?? '';
      const count = (status: number) =>
        Number(new RegExp(`(\\d+) × ${status}`).exec(summary)?.[1] ?? 0);
      expect(count(200) + count(429)).toBe(8);
      expect(count(200)).toBeLessThanOrEqual(DEMO_QUESTION_LIMIT.limit);
      expect(count(429)).toBeGreaterThanOrEqual(8 - DEMO_QUESTION_LIMIT.limit);
      expect(summary).toContain('429 RATE_LIMITED');
      const limited = await envelope();
      expect(limited.error.code).toBe('RATE_LIMITED');
      const retryAfter = limited.error.details?.retryAfterSeconds as number;
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(DEMO_QUESTION_LIMIT.windowSeconds);

      const countdown = /^Rate limited: try again in (\d+) s \(Retry-After: (\d+)\)$/;
      const shown = countdown.exec((await page.textContent('#countdown')) ?? '');
      expect(shown?.[2]).toBe(String(retryAfter));
      const left = Number(shown?.[1]);
      expect(left).toBeLessThanOrEqual(retryAfter);
      // It counts down: the next second shows up within a bound, however busy the machine.
      await page
        .locator('#countdown', { hasNotText: `in ${left} s` })
        .waitFor({ state: 'visible', timeout: 5000 });
      const rateLimitedRows = await page
        .locator('#calls tr', { hasText: 'RATE_LIMITED' })
        .allTextContents();
      expect(rateLimitedRows.length).toBe(count(429));

      if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: true });

      // Gather asks to wait: its 429 passes through, and the key is paused with a countdown.
      await page.click('#throttle');
      await page.waitForSelector('#outcome-summary:has-text("RATE_LIMIT_EXCEEDED")');
      expect((await envelope()).error.code).toBe('RATE_LIMIT_EXCEEDED');
      await page.click('#reload');
      await page.waitForSelector('#outcome-summary:has-text("UPSTREAM_THROTTLED")');
      const paused = await envelope();
      expect(paused.error.code).toBe('UPSTREAM_THROTTLED');
      const pausedFor = paused.error.details?.retryAfterSeconds as number;
      expect(paused.error.details).toEqual({ retryAfterSeconds: pausedFor, upstreamStatus: 429 });
      expect(await page.textContent('#countdown')).toMatch(
        new RegExp(`^Gather asked to wait: try again in \\d+ s \\(Retry-After: ${pausedFor}\\)$`),
      );
      expect(errors).toEqual([]);
      await context.close();
    }, 60_000);
  });

  describe('the key', () => {
    const apiKey = `qapi_${randomBytes(24).toString('base64url')}`;
    let demo: Demo;
    beforeAll(async () => {
      ({ demo } = await demoWithLogs(apiKey));
    }, 30_000);
    afterAll(() => demo?.close());

    it('reaches no page, script, response body or header, cookie or storage, in any encoding', async () => {
      const context = await browser.newContext();
      const watcher = watch(context);
      const page = await context.newPage();
      await page.goto(demo.url);
      await page.locator('#signin').waitFor({ state: 'visible' });
      await watcher.snapshot(page, 'signed out');

      await signIn(page, demo, 'wrong password');
      await page.locator('#error').waitFor({ state: 'visible' });
      await signIn(page, demo);
      await page.locator('#questions li').first().waitFor();
      await watcher.snapshot(page, 'signed in');

      await page.click('#missing');
      await page.waitForSelector('#outcome-summary:has-text("404")');
      await page.click('#revoked');
      await page.waitForSelector('#outcome-summary:has-text("502")');
      await page.click('#burst');
      await page.locator('#countdown').waitFor({ state: 'visible' });
      // The routes a curious page could ask as well.
      await page.evaluate(async () => {
        for (const path of ['/healthz', '/readyz', '/auth/me', '/api/gather/', '/nope']) {
          await (await fetch(path, { headers: { 'X-CSRF': '1' } })).text();
        }
      });
      await watcher.snapshot(page, 'after errors');

      await page.reload();
      await page.locator('#questions li').first().waitFor();
      await page.click('#signout');
      await page.locator('#signin').waitFor({ state: 'visible' });
      await watcher.snapshot(page, 'signed out again');
      const seen = await watcher.settled();
      await context.close();

      // The sweep covered what it claims to: pages, scripts, the client, each kind of answer.
      const places = seen.map((s) => s.where).join('\n');
      for (const expected of [
        /response 200 GET http:\/\/localhost:\d+\/ body/,
        /response 200 GET \S+\/app\.js body/,
        /response 200 GET \S+\/client\/gather-client\.js body/,
        /response 200 GET \S+\/api\/gather\/questions body/,
        /response 404 GET \S+\/api\/gather\/questions\/q_99 body/,
        /response 502 GET \S+\/api\/gather\/simulate\/revoked-key body/,
        /response 429 GET \S+\/api\/gather\/questions\/q_01 body/,
        /response 401 POST \S+\/auth\/login body/,
        /request POST \S+\/auth\/login/,
        /signed in: cookies/,
        /after errors: sessionStorage/,
      ]) {
        expect(places).toMatch(expected);
      }
      expect(seen.find((s) => s.where === 'signed in: cookies')?.text).toContain('gather_session');
      expect(leaks(seen, apiKey)).toEqual([]);
    }, 90_000);

    it('would be found by that sweep wherever the browser could hold it', async () => {
      const secret = apiKey.slice('qapi_'.length);
      const context = await browser.newContext();
      const watcher = watch(context);
      const page = await context.newPage();
      // A response that carries the key: base64 in the body at an odd offset, percent-encoded in a header.
      await page.route('**/leak-probe', (route) =>
        route.fulfill({
          status: 200,
          contentType: 'text/plain',
          headers: {
            'x-probe': [...Buffer.from(secret)].map((b) => `%${b.toString(16)}`).join(''),
          },
          body: Buffer.from(`xx${apiKey}`).toString('base64'),
        }),
      );
      await page.goto(demo.url);
      await context.addCookies([
        { name: 'probe', value: Buffer.from(apiKey).toString('hex'), url: demo.url },
      ]);
      await page.evaluate(
        async ([key, base64url]) => {
          await (await fetch('/leak-probe')).text();
          localStorage.setItem('probe', key);
          sessionStorage.setItem('probe', base64url);
        },
        [apiKey, Buffer.from(`.${secret}`).toString('base64url')] as const,
      );
      // A string: the test's TypeScript has no DOM types for a function's body.
      await page.evaluate(
        `document.body.setAttribute('data-probe', ${JSON.stringify(encodeURIComponent(apiKey))})`,
      );
      await watcher.snapshot(page, 'probed');
      const found = leaks(await watcher.settled(), apiKey).join('\n');
      await context.close();
      for (const expected of [
        /response 200 GET \S+\/leak-probe body: key, base64 \(offset 2\)/,
        /response 200 GET \S+\/leak-probe: key without prefix, percent-encoded bytes/,
        /probed: cookies: key, hex/,
        /probed: localStorage: key, plain/,
        /probed: sessionStorage: key without prefix, base64url \(offset 1\)/,
        /probed: page HTML: key, URL-encoded/,
      ]) {
        expect(found).toMatch(expected);
      }
    }, 60_000);
  });
});
