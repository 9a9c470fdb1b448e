import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import { BffError } from '../http/error-codes';
import {
  ratePolicy,
  type RateLimitItems,
  type RateLimitPolicy,
} from '../capacity/rate-limit-fields';
import { countLimits, type CountedLimit } from './count-limits';
import { MemoryRateLimitStore } from './memory-rate-limit.store';
import { counterKey } from './rate-limit-report';
import type { CallTally, CapCount, WindowCount } from './rate-limit.store';
import { StoreFailurePolicy } from './store-failure.policy';

/** A store that fails every step counting a `down` limit (a Redis that stopped answering). */
class PartlyDownStore extends MemoryRateLimitStore {
  override countCall(
    windows: readonly WindowCount[],
    caps: readonly CapCount[],
  ): Promise<CallTally> {
    if (windows.some((w) => w.key.endsWith(':down'))) {
      return Promise.reject(new Error('connection refused'));
    }
    return super.countCall(windows, caps);
  }
}

/** A tracker read later (a login's username, from its body): the limits before it go first. */
const later = (l: CountedLimit<string>): CountedLimit<string> => ({
  ...l,
  trackerOf: (who) => Promise.resolve(l.trackerOf(who)),
});

const policy = (redisFailure: 'open' | 'closed') =>
  new StoreFailurePolicy(new ConfigService<AppConfig, true>({ rateLimit: { redisFailure } }));

/** Counts by the request itself, and notes whom each limit was asked about. */
const asked: string[] = [];
const limit = (
  name: string,
  max: number,
  seconds: number,
  policy: RateLimitPolicy = ratePolicy(name, max, seconds),
): CountedLimit<string> => ({
  name,
  limit: max,
  ttl: seconds * 1000,
  policy,
  trackerOf: (who) => {
    asked.push(name);
    return who;
  },
});

async function refusal(counting: Promise<unknown>): Promise<BffError> {
  const err: unknown = await counting.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof BffError)) throw new Error(`expected a refusal, got ${String(err)}`);
  return err;
}

beforeAll(() => {
  Logger.overrideLogger(false);
});
beforeEach(() => {
  asked.length = 0;
});

describe('countLimits', () => {
  it('counts every limit in order and reports the tightest of one policy', async () => {
    const store = new MemoryRateLimitStore(100);
    const login = ratePolicy('login', 3, 60);
    const limits = [
      limit('wide', 10, 60, login),
      limit('narrow', 3, 60, login),
      limit('middle', 5, 60, login),
    ];
    const into: RateLimitItems = {};
    await countLimits(store, policy('closed'), limits, 'ada', into);
    expect(into.rateLimits).toEqual([{ policy: login, r: 2, t: 60 }]);
    expect(asked).toEqual(['wide', 'narrow', 'middle']);
    expect(store.size).toBe(3);
  });

  it('reports each policy apart, in the order counted', async () => {
    const store = new MemoryRateLimitStore(100);
    const limits = [limit('route', 2, 30), limit('user', 10, 60)];
    const into: RateLimitItems = {};
    await countLimits(store, policy('closed'), limits, 'ada', into);
    expect(into.rateLimits?.map(({ policy: { name }, r, t }) => ({ name, r, t }))).toEqual([
      { name: 'route', r: 1, t: 30 },
      { name: 'user', r: 9, t: 60 },
    ]);
  });

  it('keeps the later reset of two with as many left', async () => {
    const store = new MemoryRateLimitStore(100);
    const shared = ratePolicy('shared', 2, 30);
    const into: RateLimitItems = {};
    const limits = [limit('a', 2, 10, shared), limit('b', 2, 30, shared)];
    await countLimits(store, policy('closed'), limits, 'ada', into);
    expect(into.rateLimits).toEqual([{ policy: shared, r: 1, t: 30 }]);
  });

  it('lets a blocked limit win, refuses with its reset, and counts nothing after it', async () => {
    const store = new MemoryRateLimitStore(100);
    const shared = ratePolicy('shared', 2, 60);
    const limits = [
      limit('minute', 2, 60, shared),
      limit('half', 1, 30, shared),
      limit('after', 100, 60),
    ];
    await countLimits(store, policy('closed'), limits, 'ada', {});
    asked.length = 0;
    const into: RateLimitItems = {};
    const err = await refusal(countLimits(store, policy('closed'), limits, 'ada', into));
    // 'minute' has none left either, and a later reset: the blocked one still describes it.
    expect(into.rateLimits).toEqual([{ policy: shared, r: 0, t: 30 }]);
    expect(err.code).toBe('RATE_LIMITED');
    expect(err.headers).toEqual({ 'Retry-After': '30' });
    expect(err.details).toEqual({ retryAfterSeconds: 30 });
    // Trackers at hand are all asked (one store step); counting stops at the refusal:
    // 'after' was counted once, by the first request only.
    expect(asked).toEqual(['minute', 'half', 'after']);
    const after = await store.increment(counterKey('after', 'ada'), 60_000, 100);
    expect(after.totalHits).toBe(2);
  });

  it('skips a limit whose tracker is empty and waits for one that must be read', async () => {
    const store = new MemoryRateLimitStore(100);
    const into: RateLimitItems = {};
    const later = ratePolicy('later', 4, 60);
    const limits: CountedLimit<string>[] = [
      { ...limit('none', 1, 60), trackerOf: () => '' },
      { ...limit('later', 4, 60, later), trackerOf: (who) => Promise.resolve(who) },
    ];
    await countLimits(store, policy('closed'), limits, 'ada', into);
    expect(into.rateLimits).toEqual([{ policy: later, r: 3, t: 60 }]);
    expect(store.size).toBe(1);
  });

  it('with the store down and RATE_LIMIT_REDIS_FAILURE=closed, refuses with 503', async () => {
    const store = new PartlyDownStore(100);
    const into: RateLimitItems = {};
    const up = ratePolicy('up', 5, 60);
    const limits = [limit('up', 5, 60, up), later(limit('down', 5, 60)), limit('after', 5, 60)];
    const err = await refusal(countLimits(store, policy('closed'), limits, 'ada', into));
    expect(err.code).toBe('SERVICE_UNAVAILABLE');
    expect(err.status).toBe(503);
    // What was counted before the failure is still reported.
    expect(into.rateLimits).toEqual([{ policy: up, r: 4, t: 60 }]);
    expect(asked).toEqual(['up', 'down', 'after']);
  });

  it('with the store down and RATE_LIMIT_REDIS_FAILURE=open, passes the step it cannot count', async () => {
    const store = new PartlyDownStore(100);
    const into: RateLimitItems = {};
    const up = ratePolicy('up', 5, 60);
    const limits = [limit('down', 1, 60), later(limit('up', 5, 60, up))];
    await countLimits(store, policy('open'), limits, 'ada', into);
    await countLimits(store, policy('open'), limits, 'ada', into);
    expect(into.rateLimits).toEqual([{ policy: up, r: 3, t: 60 }]);
    const nothing: RateLimitItems = {};
    await countLimits(store, policy('open'), [limit('down', 1, 60)], 'ada', nothing);
    expect(nothing.rateLimits ?? []).toEqual([]);
  });

  it('counts the limits at hand in one store step, the caps riding in it only past every limit', async () => {
    const store = new MemoryRateLimitStore(100);
    const steps: number[] = [];
    const counting = Object.assign(store, {
      countCall: (windows: readonly WindowCount[], caps: readonly CapCount[]) => {
        steps.push(windows.length + caps.length);
        return MemoryRateLimitStore.prototype.countCall.call(store, windows, caps);
      },
    });
    const cap: CapCount = { key: 'day', limit: 10, expiresAt: Date.now() + 60_000 };
    const limits = [limit('a', 1, 60), limit('b', 5, 60)];
    const extras = { slot: 'u:ada', caps: [cap] };
    const tally = await countLimits(counting, policy('closed'), limits, 'ada', {}, extras);
    expect(tally).toEqual({ used: [1], refusedAt: undefined });
    expect(steps).toEqual([3]);
    await refusal(countLimits(counting, policy('closed'), limits, 'ada', {}, extras));
    expect(await store.readCaps(['day'])).toEqual([1]);
  });
});
