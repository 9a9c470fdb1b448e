import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { prometheusPlan, REQUIRE_PROMETHEUS } from './prometheus';

describe('prometheusPlan', () => {
  it('runs the Prometheus tests wherever prometheus and promtool are, whatever CI says', () => {
    expect(prometheusPlan({}, true)).toEqual({ run: true });
    expect(prometheusPlan({ [REQUIRE_PROMETHEUS]: '1' }, true)).toEqual({ run: true });
  });

  it('skips them without, saying so and how to install them in one line', () => {
    const plan = prometheusPlan({}, false);
    expect(plan).toEqual({ run: false, fail: false, line: expect.any(String) as string });
    if (plan.run) return;
    expect(plan.line).toMatch(/^Skipping the Prometheus tests: /);
    expect(plan.line).toContain('apt-get install prometheus');
    expect(plan.line).toContain(REQUIRE_PROMETHEUS);
    expect(plan.line).not.toContain('\n');
  });

  it(`fails them without when ${REQUIRE_PROMETHEUS} is set, as .ci/run does`, () => {
    for (const value of ['1', 'true']) {
      expect(prometheusPlan({ [REQUIRE_PROMETHEUS]: value }, false)).toMatchObject({
        run: false,
        fail: true,
      });
    }
    expect(prometheusPlan({ [REQUIRE_PROMETHEUS]: '0' }, false)).toMatchObject({ fail: false });
    const ci = readFileSync(join(__dirname, '..', '..', '.ci', 'run'), 'utf8');
    expect(ci).toMatch(new RegExp(`^export ${REQUIRE_PROMETHEUS}=1$`, 'm'));
    expect(ci).toContain('apt-get install -y -qq --no-install-recommends prometheus');
  });
});
