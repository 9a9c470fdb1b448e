import type { LoggerService } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test, type TestingModule } from '@nestjs/testing';
import { createClient } from 'redis';
import { freePort } from '../http/free-port';
import { spawnRedis, type SpawnedRedis } from '../../test/support/redis';
import { until } from '../../test/support/until';
import type { AppConfig } from '../config/config.schema';
import { keepConnecting, reconnectDelay, type RedisClient } from './redis-client';
import { redactRedisUrl } from './redis-topology';
import { REDIS_CLIENT, RedisModule } from './redis.module';

/** Collects what the module logs. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log = (m: unknown) => void this.lines.push(`log ${String(m)}`);
  warn = (m: unknown) => void this.lines.push(`warn ${String(m)}`);
  error = (m: unknown) => void this.lines.push(`error ${String(m)}`);
  debug = () => undefined;
  verbose = () => undefined;
}

async function startModule(
  session: Partial<AppConfig['session']> | string | undefined,
  logger: LoggerService,
) {
  const moduleRef: TestingModule = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot({
        isGlobal: true,
        ignoreEnvFile: true,
        load: [
          () => ({
            session: typeof session === 'string' ? { redisUrl: session } : (session ?? {}),
          }),
        ],
      }),
      RedisModule,
    ],
  })
    .setLogger(logger)
    .compile();
  await moduleRef.init();
  return { moduleRef, client: moduleRef.get<RedisClient | null>(REDIS_CLIENT) };
}

/** A loopback address nothing listens on. */
const deadNode = async () => ({ host: '127.0.0.1', port: await freePort() });

describe('redis-client helpers', () => {
  it('backs off exponentially, capped at five seconds, never zero', () => {
    for (const retries of [0, 1, 5, 20, 1000]) {
      const delay = reconnectDelay(retries);
      expect(delay).toBeGreaterThan(0);
      expect(delay).toBeLessThanOrEqual(5000);
    }
    expect(reconnectDelay(1000)).toBeGreaterThanOrEqual(2500);
  });

  it('removes credentials from the URL it logs', () => {
    expect(redactRedisUrl('redis://user:s3cret@cache.internal:6380/2')).toBe(
      'redis://cache.internal:6380/2',
    );
    expect(redactRedisUrl('rediss://:s3cret@cache.internal')).toBe('rediss://cache.internal');
  });
});

describe('keepConnecting', () => {
  /** A client whose first connections fail, as a Sentinel or Cluster client's do while down. */
  const failingFirst = (failures: number) => {
    const stub = {
      isOpen: false,
      calls: 0,
      connect: () => {
        stub.calls++;
        if (stub.calls <= failures)
          return Promise.reject(new Error('None of the sentinels are available'));
        stub.isOpen = true;
        return Promise.resolve();
      },
    };
    return stub;
  };

  it('tries again, with backoff, until a connection succeeds', async () => {
    const stub = failingFirst(3);
    keepConnecting(stub as unknown as RedisClient);
    await until(() => stub.isOpen, 15_000);
    expect(stub.calls).toBe(4);
  });

  it('stops trying once told to', async () => {
    const stub = failingFirst(Infinity);
    const stop = keepConnecting(stub as unknown as RedisClient);
    await until(() => stub.calls >= 2, 15_000);
    stop();
    const calls = stub.calls;
    await new Promise((r) => setTimeout(r, 500));
    expect(stub.calls).toBe(calls);
  });
});

describe('RedisModule', () => {
  let redis: SpawnedRedis;
  beforeAll(async () => {
    redis = await spawnRedis();
  });
  afterAll(() => redis.stop());

  it('provides null without REDIS_URL', async () => {
    const { moduleRef, client } = await startModule(undefined, new CapturingLogger());
    expect(client).toBeNull();
    await moduleRef.close();
  });

  it('starts without waiting for a Redis that is down, reconnects by itself, and closes', async () => {
    await redis.stop();
    const logger = new CapturingLogger();
    const url = `redis://agent:s3cret@127.0.0.1:${redis.port}`;
    const { moduleRef, client } = await startModule(url, logger);
    try {
      expect(client?.isReady).toBe(false);
      // No queueing while disconnected: a command fails now instead of waiting for Redis.
      await expect(client!.ping()).rejects.toThrow();
      await until(() => logger.lines.some((l) => l.startsWith('warn Redis unavailable')), 15_000);

      await redis.start();
      const admin = createClient({ url: redis.url });
      await admin.connect();
      await admin.aclSetUser('agent', ['on', '>s3cret', '~*', '+@all']);
      admin.destroy();
      await until(() => client!.isReady, 15_000);
      expect(await client!.ping()).toBe('PONG');
    } finally {
      await moduleRef.close();
    }
    expect(client!.isOpen).toBe(false);

    const text = logger.lines.join('\n');
    expect(text).not.toContain('s3cret');
    expect(text).toContain(`Redis ready at redis://127.0.0.1:${redis.port}`);
    // One line for the outage, not one per reconnection attempt.
    expect(logger.lines.filter((l) => l.startsWith('warn Redis unavailable'))).toHaveLength(1);
  });

  it.each([
    ['Sentinel', async () => ({ redisSentinels: [await deadNode()], redisSentinelMaster: 'bff' })],
    ['Cluster', async () => ({ redisClusterNodes: [await deadNode()] })],
  ])('starts with a %s that does not answer, keeps trying, and closes', async (_, session) => {
    const logger = new CapturingLogger();
    const { moduleRef, client } = await startModule(await session(), logger);
    await until(() => logger.lines.some((l) => l.startsWith('warn Redis unavailable')), 15_000);
    expect(client?.isReady).toBe(false);
    await moduleRef.close();
    expect(client!.isOpen).toBe(false);
  });

  it('closes while still reconnecting without keeping the process alive', async () => {
    await redis.stop();
    const { moduleRef, client } = await startModule(redis.url, new CapturingLogger());
    await moduleRef.close();
    expect(client!.isOpen).toBe(false);
    await redis.start();
  });
});
