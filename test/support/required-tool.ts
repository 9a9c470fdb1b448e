/**
 * A program some suites need that `npm ci` cannot bring (Debian's Chromium, Prometheus): where it
 * is missing, those suites are skipped with one line, or fail when CI sets `requireVariable`.
 */
export interface RequiredTool {
  /** What the suites that need it are, for the line: "the browser tests". */
  readonly suites: string;
  /** What is missing, for the line: "Debian's Chromium at /usr/bin/chromium". */
  readonly what: string;
  /** How to install it: "apt-get install chromium". */
  readonly install: string;
  /** Set to 1 or true (by CI): a missing tool fails the suites instead of skipping them. */
  readonly requireVariable: string;
}

export type ToolPlan =
  { readonly run: true } | { readonly run: false; readonly fail: boolean; readonly line: string };

/** Whether the suites that need `tool` run, are skipped, or fail for want of it. */
export function toolPlan(
  tool: RequiredTool,
  env: Readonly<Record<string, string | undefined>>,
  present: boolean,
): ToolPlan {
  if (present) return { run: true };
  const fail = env[tool.requireVariable] === '1' || env[tool.requireVariable] === 'true';
  const line = fail
    ? `The ${tool.suites} need ${tool.what} (${tool.requireVariable} is set): ${tool.install}.`
    : `Skipping the ${tool.suites}: no ${tool.what} (${tool.install}; ${tool.requireVariable}=1 makes this a failure).`;
  return { run: false, fail, line };
}

/**
 * `describe` for suites that need `tool`. Without it the suite is skipped, saying so in one
 * line, or fails when its require variable is set; nothing else in the run is affected.
 */
export function describeWithTool(
  tool: RequiredTool,
  present: boolean,
  name: string,
  suite: () => void,
): void {
  const plan = toolPlan(tool, process.env, present);
  if (plan.run) {
    describe(name, suite);
    return;
  }
  if (plan.fail) {
    describe(name, () => {
      it(`needs ${tool.what}`, () => {
        throw new Error(plan.line);
      });
    });
    return;
  }
  // Written directly: console.warn in Jest would add a stack trace and a header to the line.
  process.stderr.write(`${plan.line}\n`);
  describe.skip(name, suite);
}
