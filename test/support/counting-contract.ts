import type { CapCount, RateLimitStore } from '../../src/rate-limit/rate-limit.store';
import { until } from './until';

/**
 * What every counter store must do with a call's windows and caps (rate-limit.store.ts
 * `countCall`), run against memory and Redis alike. `fresh` names keys no other test uses.
 */
export function describeCallCounting(name: string, store: () => RateLimitStore): void {
  let n = 0;
  const fresh = (what: string): string => `{call-${process.pid}-${++n}}:${what}`;
  const cap = (key: string, limit: number): CapCount => ({
    key,
    limit,
    expiresAt: Date.now() + 3_600_000,
  });

  describe(`${name}: a call's windows and caps in one step`, () => {
    it('counts exactly N of 40 concurrent calls against a cap of N, refusals uncounted', async () => {
      const day = cap(fresh('day'), 5);
      const tallies = await Promise.all(
        Array.from({ length: 40 }, () => store().countCall([], [day])),
      );
      expect(tallies.filter((t) => t.caps?.refusedAt === undefined)).toHaveLength(5);
      expect(tallies.filter((t) => t.caps?.refusedAt === 0)).toHaveLength(35);
      expect(await store().readCaps([day.key])).toEqual([5]);
    });

    it('counts every cap or none, and says which refused with the uses as found', async () => {
      const [roomy, tight] = [cap(fresh('roomy'), 10), cap(fresh('tight'), 1)];
      const first = await store().countCall([], [roomy, tight]);
      expect(first.caps).toEqual({ used: [1, 1], refusedAt: undefined });
      const second = await store().countCall([], [roomy, tight]);
      expect(second.caps).toEqual({ used: [1, 1], refusedAt: 1 });
      expect(await store().readCaps([roomy.key, tight.key])).toEqual([1, 1]);
    });

    it('leaves the caps untouched when a window refuses, and counts no window after it', async () => {
      const [first, second] = [fresh('first'), fresh('second')];
      const windows = [
        { key: first, ttl: 60_000, limit: 1 },
        { key: second, ttl: 60_000, limit: 10 },
      ];
      const day = cap(fresh('day'), 10);
      const passed = await store().countCall(windows, [day]);
      expect(passed.windows.map((w) => [w.totalHits, w.isBlocked])).toEqual([
        [1, false],
        [1, false],
      ]);
      expect(passed.caps).toEqual({ used: [1], refusedAt: undefined });
      const refused = await store().countCall(windows, [day]);
      expect(refused.windows.map((w) => [w.totalHits, w.isBlocked])).toEqual([[2, true]]);
      expect(refused.caps).toBeUndefined();
      expect(await store().readCaps([day.key])).toEqual([1]);
      expect((await store().increment(second, 60_000, 10)).totalHits).toBe(2);
    });

    it('gives back what a call counted but did not send', async () => {
      const day = cap(fresh('day'), 3);
      await store().countCall([], [day]);
      await store().countCall([], [day]);
      store().uncountCaps([day.key]);
      // Nobody waits for a give-back: it lands soon after.
      await until(async () => (await store().readCaps([day.key]))[0] === 1);
    });
  });
}
