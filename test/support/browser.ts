import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium: playwright-core drives it; a test tool's own browser download cannot work here. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Set by CI: a missing Chromium fails the browser tests instead of skipping them. */
export const REQUIRE_BROWSER = 'GATHER_BFF_REQUIRE_BROWSER';

export type BrowserPlan =
  { readonly run: true } | { readonly run: false; readonly fail: boolean; readonly line: string };

/** Whether the browser tests run, are skipped, or fail for want of Chromium. */
export function browserPlan(
  env: Readonly<Record<string, string | undefined>>,
  chromiumPresent: boolean,
): BrowserPlan {
  if (chromiumPresent) return { run: true };
  const fail = env[REQUIRE_BROWSER] === '1' || env[REQUIRE_BROWSER] === 'true';
  const line = fail
    ? `The browser tests need Debian's Chromium at ${CHROMIUM_PATH} (${REQUIRE_BROWSER} is set): apt-get install chromium.`
    : `Skipping the browser tests: no Debian Chromium at ${CHROMIUM_PATH} (apt-get install chromium; ${REQUIRE_BROWSER}=1 makes this a failure).`;
  return { run: false, fail, line };
}

/**
 * `describe` for suites that drive Chromium. Without it the suite is skipped, saying so in one
 * line, or fails when REQUIRE_BROWSER is set; nothing else in the run is affected.
 */
export function describeInChromium(name: string, suite: () => void): void {
  const plan = browserPlan(process.env, existsSync(CHROMIUM_PATH));
  if (plan.run) {
    describe(name, suite);
    return;
  }
  if (plan.fail) {
    describe(name, () => {
      it(`needs ${CHROMIUM_PATH}`, () => {
        throw new Error(plan.line);
      });
    });
    return;
  }
  // Written directly: console.warn in Jest would add a stack trace and a header to the line.
  process.stderr.write(`${plan.line}\n`);
  describe.skip(name, suite);
}

/** Headless Chromium as the tests and the README screenshot run it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
