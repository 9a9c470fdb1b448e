import {
  All,
  Controller,
  HttpCode,
  Inject,
  Post,
  Req,
  Res,
  UseGuards,
  type INestApplication,
} from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { Request, Response as ExpressResponse } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawnRedis, type SpawnedRedis } from '../../test/support/redis';
import { ErrorEnvelopeFilter } from '../http/error.filter';
import { RedisModule } from '../redis/redis.module';
import { BffError } from '../http/error-codes';
import { upstreamTarget } from '../gather/path-policy';
import { LoginRateLimitGuard } from './login-rate-limit.guard';
import { rateLimitState } from '../../test/support/rate-limit-fields';
import { writeRateLimitFields, type RateLimitItems } from '../capacity/rate-limit-fields';
import { ProxyRateLimit } from './proxy-rate-limit';
import { principalOf } from '../session/principal';
import { RateLimitModule } from './rate-limit.module';

/** Counts what got past the limits, as Gather would. */
let reached = 0;

@Controller()
class ProbeController {
  constructor(@Inject(ProxyRateLimit) private readonly limits: ProxyRateLimit) {}

  /** The proxied path's limits, for the user whom `x-test-user` names (the session stands aside). */
  @All('api/gather/*path')
  async proxy(
    @Req() req: Request,
    @Res({ passthrough: true }) res: ExpressResponse,
  ): Promise<{ ok: true }> {
    const { path } = upstreamTarget(req.originalUrl);
    const user = req.headers['x-test-user'];
    if (typeof user !== 'string') throw new BffError('UNAUTHORIZED');
    const counted: RateLimitItems = {};
    try {
      await this.limits.count(counted, { principal: principalOf('local', user) }, req.method, path);
    } finally {
      if (counted.rateLimits) writeRateLimitFields(res, counted.rateLimits);
    }
    reached += 1;
    return { ok: true };
  }

  @Post('auth/login')
  @HttpCode(200)
  @UseGuards(LoginRateLimitGuard)
  login(): { ok: true } {
    reached += 1;
    return { ok: true };
  }
}

interface Limits {
  redisUrl?: string;
  redisFailure?: 'closed' | 'open';
  upstreamPerSecond?: number;
  routes?: { method: string; path: string; limit: number; windowSeconds: number }[];
}

async function start(limits: Limits): Promise<{ app: INestApplication; url: string }> {
  const config = {
    session: { redisUrl: limits.redisUrl },
    rateLimit: {
      user: { limit: 3, windowSeconds: 60 },
      login: { limit: 2, windowSeconds: 60 },
      routes: limits.routes ?? [],
      redisFailure: limits.redisFailure ?? 'closed',
      memoryMaxKeys: 1000,
      upstreamPerSecond: limits.upstreamPerSecond,
    },
  };
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => config] }),
      RedisModule,
      RateLimitModule,
    ],
    controllers: [ProbeController],
    providers: [{ provide: APP_FILTER, useClass: ErrorEnvelopeFilter }],
  })
    .setLogger({ log: () => undefined, warn: () => undefined, error: () => undefined })
    .compile();
  const app = moduleRef.createNestApplication({ bodyParser: false });
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}` };
}

const get = (url: string, path: string, user = 'ada', method = 'GET') =>
  fetch(`${url}${path}`, { method, headers: { 'x-test-user': user } });

/** The answer's item of policy `name`. */
const itemOf = (res: Response, name = 'user') => rateLimitState(res.headers)[name];
const ROUTE = 'route:POST /questions/**';

async function until(check: () => Promise<boolean>, deadlineMs = 15_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeEach(() => {
  reached = 0;
});

describe('rate-limit guards (memory store)', () => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await start({
      upstreamPerSecond: 1000,
      routes: [{ method: 'POST', path: '/questions/**', limit: 1, windowSeconds: 30 }],
    }));
  });
  afterAll(() => app.close());

  it('counts per user, sets only RateLimit-Policy and RateLimit, and refuses past the limit', async () => {
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(await get(url, '/api/gather/a', 'grace'));
    expect(seen.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(seen.map((r) => itemOf(r)?.r)).toEqual([2, 1, 0, 0]);
    for (const res of seen) {
      expect(res.headers.get('ratelimit-policy')).toBe('"user";q=3;w=60');
      expect(itemOf(res)?.t).toBeGreaterThan(0);
      expect(itemOf(res)?.t).toBeLessThanOrEqual(60);
      const names = [...res.headers.keys()];
      expect(names.filter((n) => /ratelimit|retry-after/i.test(n)).sort()).toEqual(
        res.status === 429
          ? ['ratelimit', 'ratelimit-policy', 'retry-after']
          : ['ratelimit', 'ratelimit-policy'],
      );
    }
    const refused = seen[3]!;
    const body = (await refused.json()) as {
      error: { code: string; details: { retryAfterSeconds: number } };
    };
    expect(body.error.code).toBe('RATE_LIMITED');
    expect(refused.headers.get('retry-after')).toBe(String(body.error.details.retryAfterSeconds));
    expect(String(itemOf(refused)?.t)).toBe(refused.headers.get('retry-after'));
    expect(reached).toBe(3);
    // Another user has a counter of their own.
    expect((await get(url, '/api/gather/a', 'hopper')).status).toBe(200);
  });

  it('counts a matching route rule apart from the user limit and reports both', async () => {
    const first = await get(url, '/api/gather/questions/7/answers', 'linus', 'POST');
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-policy')).toBe(`"${ROUTE}";q=1;w=30, "user";q=3;w=60`);
    expect(itemOf(first, ROUTE)).toEqual({ q: 1, w: 30, r: 0, t: 30 });
    expect(itemOf(first)).toMatchObject({ q: 3, r: 2 });
    const second = await get(url, '/api/gather/questions/7/answers', 'linus', 'POST');
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe(String(itemOf(second, ROUTE)?.t));
    // Not the rule's method or path: only the user limit applies. The refused request stopped
    // at the rule, so this is the user's second of three.
    const other = await get(url, '/api/gather/questions/7', 'linus', 'GET');
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit-policy')).toBe('"user";q=3;w=60');
    expect(itemOf(other)).toMatchObject({ q: 3, r: 1 });
    expect(reached).toBe(2);
  });

  it('refuses without a signed-in user instead of counting by anything the client sends', async () => {
    const res = await fetch(`${url}/api/gather/a`);
    expect(res.status).toBe(401);
    expect(reached).toBe(0);
  });

  it('limits login attempts per address and per username', async () => {
    const login = (username: string, ip?: string) =>
      fetch(`${url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(ip ? { 'x-forwarded-for': ip } : {}) },
        body: JSON.stringify({ username, password: 'x' }),
      });
    expect((await login('a')).status).toBe(200);
    expect((await login('b')).status).toBe(200);
    // Third from this address: refused whatever the username (X-Forwarded-For is not trusted).
    const third = await login('c', '10.9.8.7');
    expect(third.status).toBe(429);
    expect(third.headers.get('ratelimit-policy')).toBe('"login";q=2;w=60');
    expect(itemOf(third, 'login')).toMatchObject({ q: 2, r: 0 });
    expect(reached).toBe(2);
  });
});

describe('the organisation budget', () => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await start({ upstreamPerSecond: 2 }));
  });
  afterAll(() => app.close());

  it('refuses past the organisation budget with Retry-After 1', async () => {
    const users = Array.from({ length: 10 }, (_, i) => `budget-${i}`);
    const burst = await Promise.all(users.map((u) => get(url, '/api/gather/x', u)));
    // Each user is within their own limit. Two per second: even a burst that straddles two
    // one-second windows gets at most four through.
    const limited = burst.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(6);
    expect(reached).toBe(10 - limited.length);
    for (const res of limited) {
      expect(res.headers.get('retry-after')).toBe('1');
      const body = (await res.json()) as { error: { code: string; details: unknown } };
      expect(body.error).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: 1 } });
    }
  });
});

describe.each(['closed', 'open'] as const)(
  'Redis down with RATE_LIMIT_REDIS_FAILURE=%s',
  (mode) => {
    let redis: SpawnedRedis;
    let app: INestApplication;
    let url: string;
    beforeAll(async () => {
      redis = await spawnRedis();
      ({ app, url } = await start({ redisUrl: redis.url, redisFailure: mode }));
    });
    afterAll(async () => {
      await app.close();
      await redis.stop();
    });

    it(`${mode === 'closed' ? 'answers 503' : 'lets requests through'} while down and limits again after a restart`, async () => {
      await until(async () => (await get(url, '/api/gather/a', 'before')).status === 200);
      await redis.stop();
      const down = await get(url, '/api/gather/a', 'during');
      if (mode === 'closed') {
        expect(down.status).toBe(503);
        const body = (await down.json()) as { error: { code: string } };
        expect(body.error.code).toBe('SERVICE_UNAVAILABLE');
      } else {
        expect(down.status).toBe(200);
        expect(down.headers.get('ratelimit')).toBeNull();
      }
      const reachedWhileDown = reached;

      await redis.start();
      await until(async () => (await get(url, '/api/gather/a', 'after')).headers.has('ratelimit'));
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await get(url, '/api/gather/a', 'after2')).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(reachedWhileDown).toBe(mode === 'closed' ? 1 : 2);
    });
  },
);
