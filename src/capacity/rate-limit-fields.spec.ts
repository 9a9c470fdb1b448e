import { serializeList } from 'structured-headers';
import {
  addRateLimit,
  mergedRateLimitFields,
  rateItem,
  rateLimitFields,
  ratePolicy,
  type RateLimitItems,
} from './rate-limit-fields';

const user = ratePolicy('user', 120, 60);
const day = ratePolicy('user-day', 5000, 86400);

describe('RateLimit fields', () => {
  it("serialises one item per policy, as the draft's example has it", () => {
    expect(rateLimitFields([rateItem(user, 117, 42), rateItem(day, 4988, 30512)])).toEqual({
      policy: '"user";q=120;w=60, "user-day";q=5000;w=86400',
      state: '"user";r=117;t=42, "user-day";r=4988;t=30512',
    });
  });

  it('writes each RateLimit member as the library serialises it, names and integers alike', () => {
    const names = ['user', 'route:GET /questions', 'a "quoted" \\ name'];
    const values = [0, 1, 9, 10, 59, 86400, 2 ** 31, 999_999_999_999_999];
    for (const name of names) {
      const policy = ratePolicy(name, 10, 60);
      for (const r of values) {
        const library = serializeList([
          [
            name,
            new Map([
              ['r', r],
              ['t', 7],
            ]),
          ],
        ]);
        expect(rateLimitFields([rateItem(policy, r, 7)]).state).toBe(library);
      }
    }
  });

  it('leaves an integer past RFC 9651 range to the library, which refuses it', () => {
    expect(() => rateLimitFields([rateItem(user, 1e15, 1)])).toThrow(/integer/i);
  });

  it('never says a negative r, and t in whole seconds rounded up', () => {
    expect(rateItem(user, -3, 41.2)).toMatchObject({ r: 0, t: 42 });
    expect(rateItem(user, 2, -1)).toMatchObject({ r: 2, t: 0 });
  });

  it('adds items in order, one per policy (a later count of the same policy replaces it)', () => {
    const call: RateLimitItems = {};
    addRateLimit(call, rateItem(user, 5, 10));
    addRateLimit(call, rateItem(day, 50, 100));
    addRateLimit(call, rateItem(user, 4, 9));
    expect(call.rateLimits?.map((i) => [i.policy.name, i.r])).toEqual([
      ['user', 4],
      ['user-day', 50],
    ]);
  });

  it("keeps Gather's items first and the BFF's after them, in the same fields", () => {
    expect(
      mergedRateLimitFields('"gather";q=100;w=10', ['"gather";r=3;t=4'], [rateItem(user, 1, 2)]),
    ).toEqual({
      policy: '"gather";q=100;w=10, "user";q=120;w=60',
      state: '"gather";r=3;t=4, "user";r=1;t=2',
    });
  });

  it("passes Gather's fields alone when the BFF has no item, and nothing when neither has", () => {
    expect(mergedRateLimitFields('"g";q=1;w=1', undefined, [])).toEqual({
      policy: '"g";q=1;w=1',
      state: undefined,
    });
    expect(mergedRateLimitFields(undefined, undefined, [])).toEqual({
      policy: undefined,
      state: undefined,
    });
  });

  it("drops a field of Gather's that does not parse, keeping the BFF's items whole", () => {
    expect(mergedRateLimitFields('not a list;;', '"g";r=x=1', [rateItem(user, 1, 2)])).toEqual({
      policy: '"user";q=120;w=60',
      state: '"user";r=1;t=2',
    });
  });
});
