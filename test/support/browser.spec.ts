import { browserPlan, CHROMIUM_PATH, REQUIRE_BROWSER } from './browser';

describe('browserPlan', () => {
  it('runs the browser tests wherever Chromium is, whatever CI says', () => {
    expect(browserPlan({}, true)).toEqual({ run: true });
    expect(browserPlan({ [REQUIRE_BROWSER]: '1' }, true)).toEqual({ run: true });
  });

  it('skips them without Chromium, saying so in one line', () => {
    const plan = browserPlan({}, false);
    expect(plan).toEqual({ run: false, fail: false, line: expect.any(String) as string });
    if (plan.run) return;
    expect(plan.line).toContain(CHROMIUM_PATH);
    expect(plan.line).toContain(REQUIRE_BROWSER);
    expect(plan.line).not.toContain('\n');
  });

  it(`fails them without Chromium when ${REQUIRE_BROWSER} is set`, () => {
    for (const value of ['1', 'true']) {
      expect(browserPlan({ [REQUIRE_BROWSER]: value }, false)).toMatchObject({
        run: false,
        fail: true,
      });
    }
    expect(browserPlan({ [REQUIRE_BROWSER]: '0' }, false)).toMatchObject({ fail: false });
  });
});
