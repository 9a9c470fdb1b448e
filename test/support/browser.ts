import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { describeWithTool, toolPlan, type RequiredTool, type ToolPlan } from './required-tool';

/** Debian's Chromium: playwright-core drives it; a test tool's own browser download cannot work here. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Set by CI: a missing Chromium fails the browser tests instead of skipping them. */
export const REQUIRE_BROWSER = 'GATHER_BFF_REQUIRE_BROWSER';

const CHROMIUM: RequiredTool = {
  suites: 'browser tests',
  what: `Debian's Chromium at ${CHROMIUM_PATH}`,
  install: 'apt-get install chromium',
  requireVariable: REQUIRE_BROWSER,
};

/** Whether the browser tests run, are skipped, or fail for want of Chromium. */
export function browserPlan(
  env: Readonly<Record<string, string | undefined>>,
  chromiumPresent: boolean,
): ToolPlan {
  return toolPlan(CHROMIUM, env, chromiumPresent);
}

/**
 * `describe` for suites that drive Chromium. Without it the suite is skipped, saying so in one
 * line, or fails when REQUIRE_BROWSER is set; nothing else in the run is affected.
 */
export function describeInChromium(name: string, suite: () => void): void {
  describeWithTool(CHROMIUM, existsSync(CHROMIUM_PATH), name, suite);
}

/** Headless Chromium as the tests and the README screenshot run it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
