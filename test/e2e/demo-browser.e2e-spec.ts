import { chromium, type Browser } from 'playwright-core';
import { PassThrough } from 'node:stream';
import { startDemo, type Demo } from '../../src/demo/start-demo';

/**
 * The demo page in a real browser: Debian's Chromium driven by playwright-core (CI installs it;
 * a test tool's own browser download cannot work here).
 */
describe('the demo page in Chromium', () => {
  let demo: Demo;
  let browser: Browser;
  beforeAll(async () => {
    demo = await startDemo({ port: 0, host: '127.0.0.1', logDestination: new PassThrough() });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });

  it('signs in, lists questions through the BFF, shows an error envelope and signs out', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(demo.url);
    await page.locator('#signin').waitFor({ state: 'visible' });

    await page.fill('input[name=username]', demo.username);
    await page.fill('input[name=password]', 'wrong password');
    await page.click('button[type=submit]');
    await page.locator('#error').waitFor({ state: 'visible' });
    expect(await page.textContent('#error-code')).toBe('INVALID_CREDENTIALS');

    await page.fill('input[name=username]', demo.username);
    await page.fill('input[name=password]', demo.password);
    await page.click('button[type=submit]');
    await page.locator('#questions li').first().waitFor();
    expect(await page.locator('#questions li').count()).toBeGreaterThan(0);
    expect(await page.textContent('#gather-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const cookies = await page.context().cookies();
    expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([
      ['gather_session', true, 'Strict'],
    ]);

    await page.click('#signout');
    await page.locator('#signin').waitFor({ state: 'visible' });
    expect(await page.context().cookies()).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
