import type { IncomingMessage } from 'node:http';
import type { RateLimitItems } from '../capacity/rate-limit-fields';
import { BffError } from '../http/error-codes';
import { MemoryRateLimitStore } from '../rate-limit/memory-rate-limit.store';
import type { CallTally } from '../rate-limit/rate-limit.store';
import { quotaCounting } from '../../test/support/quota-counting';
import { until } from '../../test/support/until';

/** A store whose server does not answer. */
class DownStore extends MemoryRateLimitStore {
  override countCall(): Promise<CallTally> {
    return Promise.reject(new Error('Redis did not answer within 1000 ms'));
  }
  override readCaps(): Promise<number[]> {
    return Promise.reject(new Error('Redis did not answer within 1000 ms'));
  }
}

const ADA = { principal: 'local:ada', team: 'red' } as const;

async function refusal(counted: Promise<unknown>): Promise<BffError> {
  const err = await counted.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof BffError)) throw new Error(`expected a refusal, got ${String(err)}`);
  return err;
}

describe('quotas riding in the rate limit', () => {
  it('counts each quota once per call and refuses past it with QUOTA_EXCEEDED', async () => {
    const store = new MemoryRateLimitStore(100);
    const { limits, quota, metrics } = quotaCounting(store, {
      user: { day: 2 },
      team: { month: 10 },
    });
    const into: RateLimitItems = {};
    await limits.count(into, ADA, 'GET', '/v1/x');
    expect(into.rateLimits?.map((i) => [i.policy.name, i.r])).toEqual([
      ['user', 9999],
      ['user-day', 1],
      ['team-month', 9],
    ]);
    await limits.count({}, ADA, 'GET', '/v1/x');
    const err = await refusal(limits.count({}, ADA, 'GET', '/v1/x'));
    expect(err.code).toBe('QUOTA_EXCEEDED');
    expect(err.details).toMatchObject({ quota: 'user-day', limit: 2 });
    expect((await quota.state(ADA.principal, ADA.team)).map((u) => u.used)).toEqual([2, 2]);
    // Counted at the refusal, by the quota used up.
    const text = await metrics.text();
    expect(text).toContain('bff_quota_refusals_total{quota="user-day"} 1');
    expect(text).toContain('bff_quota_refusals_total{quota="team-month"} 0');
    expect(
      (await quota.teamMonthUses(['red', 'blue'])).map((u) => [u.quota.owner, u.used]),
    ).toEqual([
      ['red', 2],
      ['blue', 0],
    ]);
  });

  it('spends no quota on a call the rate limit refuses', async () => {
    const store = new MemoryRateLimitStore(100);
    const { limits, quota } = quotaCounting(
      store,
      { user: { day: 10 } },
      { user: { limit: 1, windowSeconds: 60 } },
    );
    await limits.count({}, ADA, 'GET', '/v1/x');
    expect((await refusal(limits.count({}, ADA, 'GET', '/v1/x'))).code).toBe('RATE_LIMITED');
    expect((await quota.state(ADA.principal, ADA.team))[0]?.used).toBe(1);
  });

  it('gives back the quotas an early count took for a user the session turned out not to have', async () => {
    const store = new MemoryRateLimitStore(100);
    const { limits, quota } = quotaCounting(store, { user: { day: 10 } });
    const req = { method: 'GET' } as IncomingMessage;
    const call = { req, target: { path: '/v1/x' }, listed: true, expectedUser: ADA };
    const early = limits.countAhead(call);
    await early.earlyCount?.outcome;
    expect((await quota.state(ADA.principal, ADA.team))[0]?.used).toBe(1);
    const other = { principal: 'local:ada', team: 'blue' } as const;
    await limits.countCall({ ...early, user: other });
    expect((await quota.state(ADA.principal, ADA.team))[0]?.used).toBe(0);
    expect((await quota.state(other.principal, other.team))[0]?.used).toBe(1);
  });

  it('gives back the quotas of an early count the call is refused before settling, and keeps the settled', async () => {
    const store = new MemoryRateLimitStore(100);
    const { limits, quota } = quotaCounting(store, { user: { day: 10 } });
    const req = { method: 'GET' } as IncomingMessage;
    const ahead = () =>
      limits.countAhead({ req, target: { path: '/v1/x' }, listed: true, expectedUser: ADA });
    const used = async () => (await quota.state(ADA.principal, ADA.team))[0]?.used;
    const refused = ahead();
    const settled = ahead();
    await limits.countCall(Object.assign(settled, { user: ADA }));
    expect(settled.earlyCount).toBeUndefined();
    expect(await used()).toBe(2);
    limits.abandon(refused.earlyCount!);
    await until(async () => (await used()) === 1);
  });

  it('with the store down and RATE_LIMIT_REDIS_FAILURE=closed: 503 SERVICE_UNAVAILABLE', async () => {
    const { limits } = quotaCounting(
      new DownStore(100),
      { user: { day: 5 } },
      { redisFailure: 'closed' },
    );
    const err = await refusal(limits.count({}, ADA, 'GET', '/v1/x'));
    expect(err.code).toBe('SERVICE_UNAVAILABLE');
  });

  it("with the store down, a user's quota state is a 503 that names the store", async () => {
    const { quota } = quotaCounting(new DownStore(100), { user: { day: 5 } });
    const err = await refusal(quota.state(ADA.principal, ADA.team));
    expect([err.code, err.message]).toEqual([
      'SERVICE_UNAVAILABLE',
      'The quota store is unavailable',
    ]);
  });

  it('with the store down and RATE_LIMIT_REDIS_FAILURE=open: the call passes uncounted', async () => {
    const { limits } = quotaCounting(
      new DownStore(100),
      { user: { day: 5 } },
      { redisFailure: 'open' },
    );
    const into: RateLimitItems = {};
    await expect(limits.count(into, ADA, 'GET', '/v1/x')).resolves.toBe(into);
    expect(into.rateLimits).toBeUndefined();
  });
});
