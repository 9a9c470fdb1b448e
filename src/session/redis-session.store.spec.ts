import type { LoggerService } from '@nestjs/common';
import type { SessionData } from 'express-session';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { spawnRedis, type SpawnedRedis } from '../../test/support/redis';
import { BffError } from '../http/error-codes';
import type { RedisClient } from '../redis/redis-client';
import { RedisSessionStore, SESSION_KEY_PREFIX } from './redis-session.store';
import { principalOf } from './principal';

const IDLE_MS = 60_000;
const ABSOLUTE_MS = 3_600_000;

class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log = (m: unknown) => void this.lines.push(`log ${String(m)}`);
  warn = (m: unknown) => void this.lines.push(`warn ${String(m)}`);
  error = (m: unknown) => void this.lines.push(`error ${String(m)}`);
}

const data = (id: string, createdAt = Date.now()): SessionData => ({
  cookie: { originalMaxAge: null },
  user: { id, name: id, email: `${id}@example.test`, principal: principalOf('local', id) },
  createdAt,
});

/** A store callback that settles a promise. */
const settle =
  (resolve: () => void, reject: (e: Error) => void) =>
  (e?: unknown): void =>
    e ? reject(e instanceof Error ? e : new Error('store failed')) : resolve();

/** The store's callbacks as promises; `load` is express-session's path: get, then build. */
const call = {
  set: (s: RedisSessionStore, sid: string, d: SessionData) =>
    new Promise<void>((resolve, reject) => s.set(sid, d, settle(resolve, reject))),
  destroy: (s: RedisSessionStore, sid: string) =>
    new Promise<void>((resolve, reject) => s.destroy(sid, settle(resolve, reject))),
  touch: (s: RedisSessionStore, sid: string, d: SessionData) =>
    new Promise<void>((resolve) => s.touch(sid, d, resolve)),
  load: (s: RedisSessionStore, sid: string) =>
    new Promise<SessionData | undefined>((resolve, reject) =>
      s.load(sid, (e, session) => (e ? reject(e as Error) : resolve(session))),
    ),
};

/** Calls of one command on the server so far (INFO commandstats). */
async function calls(admin: RedisClient, command: string): Promise<number> {
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(
    await admin.info('commandstats'),
  );
  return Number(match?.[1] ?? 0);
}

async function connected(url: string): Promise<RedisClient> {
  const client: RedisClient = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

describe('RedisSessionStore', () => {
  let redis: SpawnedRedis;
  let client: RedisClient;
  let admin: RedisClient;
  let logger: CapturingLogger;
  let store: RedisSessionStore;
  let sid: string;
  let n = 0;

  beforeAll(async () => {
    redis = await spawnRedis();
    client = await connected(redis.url);
    admin = await connected(redis.url);
  });
  afterAll(async () => {
    client.destroy();
    admin.destroy();
    await redis.stop();
  });
  beforeEach(() => {
    logger = new CapturingLogger();
    store = new RedisSessionStore(client, { idleMs: IDLE_MS, absoluteMs: ABSOLUTE_MS, logger });
    sid = `sid-${(n += 1)}`;
  });

  it('stores a new session as JSON under gbff:sess:<id> for the idle timeout, and loads it', async () => {
    await call.set(store, sid, data('ada'));
    const pttl = await admin.pTTL(`${SESSION_KEY_PREFIX}${sid}`);
    expect(pttl).toBeGreaterThan(IDLE_MS - 5000);
    expect(pttl).toBeLessThanOrEqual(IDLE_MS);
    const raw = JSON.parse((await admin.get(`${SESSION_KEY_PREFIX}${sid}`)) as string) as object;
    expect(raw).toMatchObject({ user: { id: 'ada' } });
    expect((await call.load(store, sid))?.user?.id).toBe('ada');
    expect(await call.load(store, 'unknown')).toBeUndefined();
  });

  it('never lets a key outlive the absolute timeout', async () => {
    await call.set(store, sid, data('ada', Date.now() - ABSOLUTE_MS + 5000));
    const pttl = await admin.pTTL(`${SESSION_KEY_PREFIX}${sid}`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(5000);
  });

  it('does not write back a loaded session that was destroyed meanwhile (set or touch)', async () => {
    await call.set(store, sid, data('ada'));
    const loaded = (await call.load(store, sid)) as SessionData;
    await call.destroy(store, sid);
    (loaded as { createdAt: number }).createdAt += 1;
    await call.set(store, sid, loaded);
    // A touch that is due (a session this store did not load counts as due) is a PEXPIRE.
    await call.touch(store, sid, data('ada'));
    expect(await admin.exists(`${SESSION_KEY_PREFIX}${sid}`)).toBe(0);
  });

  it('updates a loaded session that still exists', async () => {
    await call.set(store, sid, data('ada'));
    const loaded = (await call.load(store, sid)) as SessionData;
    loaded.user = {
      id: 'ada',
      name: 'Ada L.',
      email: 'ada@example.test',
      principal: principalOf('local', 'ada'),
    };
    await call.set(store, sid, loaded);
    expect((await call.load(store, sid))?.user?.name).toBe('Ada L.');
  });

  it('treats stored data it cannot rebuild as no session', async () => {
    await admin.set(`${SESSION_KEY_PREFIX}${sid}`, '{"user":{"id":"x"}}');
    expect(await call.load(store, sid)).toBeUndefined();
    await admin.set(`${SESSION_KEY_PREFIX}${sid}`, 'not json');
    expect(await call.load(store, sid)).toBeUndefined();
  });

  it('touches a fresh session without any write, and reports the deadline it has', async () => {
    await call.set(store, sid, data('ada'));
    const loaded = (await call.load(store, sid)) as SessionData;
    const pttl = await admin.pTTL(`${SESSION_KEY_PREFIX}${sid}`);
    const [pexpire, set] = [await calls(admin, 'pexpire'), await calls(admin, 'set')];
    for (let i = 0; i < 20; i++) await call.touch(store, sid, loaded);
    expect(await calls(admin, 'pexpire')).toBe(pexpire);
    expect(await calls(admin, 'set')).toBe(set);
    // The deadline is the key's, not "idle timeout from now".
    const deadline = store.idleDeadline(loaded);
    expect(deadline).toBeLessThanOrEqual(Date.now() + pttl);
    expect(deadline).toBeGreaterThan(Date.now() + pttl - 5000);
  });

  it('extends the TTL with one PEXPIRE once a hundredth of the idle timeout has passed', async () => {
    const short = new RedisSessionStore(client, { idleMs: 2000, absoluteMs: ABSOLUTE_MS, logger });
    await call.set(short, sid, data('ada'));
    // Past a hundredth (20 ms), well within a tenth: a session used again soon after is extended.
    await sleep(50);
    const loaded = (await call.load(short, sid)) as SessionData;
    expect(await admin.pTTL(`${SESSION_KEY_PREFIX}${sid}`)).toBeLessThanOrEqual(1950);
    const [pexpire, set] = [await calls(admin, 'pexpire'), await calls(admin, 'set')];
    const before = Date.now();
    expect(short.idleDeadline(loaded)).toBeGreaterThanOrEqual(before + 2000);
    await call.touch(short, sid, loaded);
    // A full idle timeout from the touch: what the key has left, from when Redis answered, reaches it.
    const pttl = await admin.pTTL(`${SESSION_KEY_PREFIX}${sid}`);
    expect(Date.now() + pttl).toBeGreaterThanOrEqual(before + 2000);
    expect(await calls(admin, 'pexpire')).toBe(pexpire + 1);
    expect(await calls(admin, 'set')).toBe(set);
  });

  describe("the proxied path's read (lookup)", () => {
    it('sends PTTL only while a touch might be due: first read, then once the idle clock may move', async () => {
      // A 100 s idle timeout: the clock may move after 1 s, far beyond any pause between reads.
      const hundredSeconds = new RedisSessionStore(client, {
        idleMs: 100_000,
        absoluteMs: ABSOLUTE_MS,
        logger,
      });
      await call.set(hundredSeconds, sid, data('ada'));
      const [pttl, get] = [await calls(admin, 'pttl'), await calls(admin, 'get')];
      expect((await hundredSeconds.lookup(sid))?.user?.id).toBe('ada');
      expect(await calls(admin, 'pttl')).toBe(pttl + 1);
      for (let i = 0; i < 5; i++) expect((await hundredSeconds.lookup(sid))?.user?.id).toBe('ada');
      expect(await calls(admin, 'pttl')).toBe(pttl + 1);
      expect(await calls(admin, 'get')).toBe(get + 6);
      expect(hundredSeconds.knownUser(sid)?.principal).toBe('local:ada');
      // Past a hundredth of the idle timeout the clock may be due: the read asks Redis again, and
      // the touch it leads to is remembered.
      await sleep(1100);
      const due = (await hundredSeconds.lookup(sid)) as SessionData;
      expect(await calls(admin, 'pttl')).toBe(pttl + 2);
      const pexpire = await calls(admin, 'pexpire');
      await call.touch(hundredSeconds, sid, due);
      expect(await calls(admin, 'pexpire')).toBe(pexpire + 1);
      await hundredSeconds.lookup(sid);
      expect(await calls(admin, 'pttl')).toBe(pttl + 2);
    });

    it('refuses a session ended elsewhere even while its expiry is known', async () => {
      await call.set(store, sid, data('ada'));
      await store.lookup(sid);
      await store.lookup(sid);
      await admin.del(`${SESSION_KEY_PREFIX}${sid}`);
      expect(await store.lookup(sid)).toBeNull();
      expect(store.knownUser(sid)).toBeUndefined();
      // Forgotten with the session: a later key under the same id is read in full again.
      await call.set(store, sid, data('bob'));
      const pttl = await calls(admin, 'pttl');
      expect((await store.lookup(sid))?.user?.id).toBe('bob');
      expect(await calls(admin, 'pttl')).toBe(pttl + 1);
    });

    it('keeps a session in use alive: after each read and its touch, the key lives an idle timeout less one step', async () => {
      const short = new RedisSessionStore(client, {
        idleMs: 2000,
        absoluteMs: ABSOLUTE_MS,
        logger,
      });
      await call.set(short, sid, data('ada'));
      for (let i = 0; i < 8; i++) {
        const readAt = Date.now();
        const read = (await short.lookup(sid)) as SessionData;
        await call.touch(short, sid, read);
        const askedAt = Date.now();
        const pttl = await admin.pTTL(`${SESSION_KEY_PREFIX}${sid}`);
        // Redis answered at askedAt or later: askedAt + pttl is at most the key's expiry.
        expect(askedAt + pttl).toBeGreaterThanOrEqual(readAt + 2000 - 200 - 1);
        await sleep(100);
      }
    });
  });

  it('gives a key without a TTL one on the next touch', async () => {
    await admin.set(`${SESSION_KEY_PREFIX}${sid}`, JSON.stringify(data('ada')));
    const loaded = (await call.load(store, sid)) as SessionData;
    await call.touch(store, sid, loaded);
    expect(await admin.pTTL(`${SESSION_KEY_PREFIX}${sid}`)).toBeGreaterThan(0);
  });

  it('destroys a session', async () => {
    await call.set(store, sid, data('ada'));
    await call.destroy(store, sid);
    expect(await admin.exists(`${SESSION_KEY_PREFIX}${sid}`)).toBe(0);
  });

  describe('with Redis gone', () => {
    let down: SpawnedRedis;
    let downClient: RedisClient;
    beforeAll(async () => {
      down = await spawnRedis();
      downClient = createClient({
        url: down.url,
        disableOfflineQueue: true,
        socket: { reconnectStrategy: 50 },
      });
      downClient.on('error', () => undefined);
      await downClient.connect();
    });
    afterAll(async () => {
      downClient.destroy();
      await down.stop();
    });

    it('fails every call with 503 SERVICE_UNAVAILABLE, logs it once, and recovers by itself', async () => {
      const s = new RedisSessionStore(downClient, {
        idleMs: IDLE_MS,
        absoluteMs: ABSOLUTE_MS,
        logger,
      });
      await call.set(s, sid, data('ada'));
      await down.stop();

      const unavailable: unknown = expect.objectContaining({
        code: 'SERVICE_UNAVAILABLE',
        status: 503,
      });
      await expect(call.load(s, sid)).rejects.toEqual(unavailable);
      await expect(call.set(s, sid, data('ada'))).rejects.toBeInstanceOf(BffError);
      await expect(call.destroy(s, sid)).rejects.toEqual(unavailable);
      await expect(s.ping()).rejects.toEqual(unavailable);
      // A touch that fails is not an error for the request that made it.
      await expect(call.touch(s, sid, data('ada'))).resolves.toBeUndefined();
      expect(logger.lines.filter((l) => l.startsWith('warn'))).toHaveLength(1);

      await down.start();
      const deadline = Date.now() + 10_000;
      while (!downClient.isReady && Date.now() < deadline) await sleep(50);
      await expect(s.ping()).resolves.toBeUndefined();
      expect(logger.lines.at(-1)).toBe('log Session store answering again');
    });
  });

  describe('with Redis frozen (connected, never answering)', () => {
    let frozen: SpawnedRedis;
    let frozenClient: RedisClient;
    let pid: number;
    beforeAll(async () => {
      frozen = await spawnRedis();
      frozenClient = await connected(frozen.url);
      pid = Number(/process_id:(\d+)/.exec(await frozenClient.info('server'))?.[1]);
    });
    afterAll(async () => {
      process.kill(pid, 'SIGCONT');
      frozenClient.destroy();
      await frozen.stop();
    });

    it('gives up on each call at the deadline instead of waiting for ever', async () => {
      const s = new RedisSessionStore(frozenClient, {
        idleMs: IDLE_MS,
        absoluteMs: ABSOLUTE_MS,
        logger,
      });
      await call.set(s, sid, data('ada'));
      process.kill(pid, 'SIGSTOP');
      try {
        // Without the store's own deadline these would hang: the client's timeout ends once a
        // command is written. Jest's timeout fails the test if they do.
        await expect(call.load(s, sid)).rejects.toEqual(
          expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }),
        );
        await expect(s.ping()).rejects.toBeInstanceOf(BffError);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      // The late replies are read in order: the connection is usable again, answers matched.
      expect((await call.load(s, sid))?.user?.id).toBe('ada');
    });
  });
});
