import type { SessionData } from 'express-session';
import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import { spawnRedis, type SpawnedRedis } from '../../test/support/redis';
import type { RedisClient } from '../redis/redis-client';
import { MemorySessionStore } from './memory-session.store';
import {
  PROVIDER_INDEX_PREFIX,
  RedisSessionStore,
  SESSION_KEY_PREFIX,
  USER_INDEX_PREFIX,
} from './redis-session.store';
import { SessionHandles } from './session-handle';
import type { SessionStore } from './session-store';
import { principalOf } from './principal';

const sha = (value: string): string => createHash('sha256').update(value).digest('hex');

const IDLE_MS = 60_000;
const ABSOLUTE_MS = 3_600_000;

const data = (id: string, extra: Partial<SessionData> = {}): SessionData => ({
  cookie: { originalMaxAge: null },
  user: { id, name: id, email: `${id}@example.test`, principal: principalOf('local', id) },
  createdAt: Date.now(),
  ...extra,
});

const set = (store: SessionStore, sid: string, d: SessionData): Promise<void> =>
  new Promise((resolve, reject) =>
    store.set(sid, d, (err) => (err ? reject(err as Error) : resolve())),
  );
const destroy = (store: SessionStore, sid: string): Promise<void> =>
  new Promise((resolve, reject) =>
    store.destroy(sid, (err) => (err ? reject(err as Error) : resolve())),
  );

const sidsOf = async (store: SessionStore, userId: string): Promise<string[]> =>
  (await store.sessionsOf(principalOf('local', userId))).map((s) => s.sid).sort();

let redis: SpawnedRedis;
let client: RedisClient;
beforeAll(async () => {
  redis = await spawnRedis();
  client = createClient({ url: redis.url });
  client.on('error', () => undefined);
  await client.connect();
});
afterAll(async () => {
  void client.destroy();
  await redis.stop();
});

describe.each([
  ['memory', (): SessionStore => new MemorySessionStore({ max: 100, ttlMs: IDLE_MS })],
  [
    'Redis',
    (): SessionStore => new RedisSessionStore(client, { idleMs: IDLE_MS, absoluteMs: ABSOLUTE_MS }),
  ],
])('the per-user session index (%s store)', (_name, makeStore) => {
  let store: SessionStore;
  let n = 0;
  const fresh = (): string => `idx-${process.pid}-${(n += 1)}`;
  beforeEach(() => {
    store = makeStore();
  });

  it("lists each user's sessions with their data and a last use no later than now", async () => {
    const [a1, a2, b1] = [fresh(), fresh(), fresh()];
    const user = `ada-${a1}`;
    await set(store, a1, data(user, { userAgent: 'UA one' }));
    await set(store, a2, data(user));
    await set(store, b1, data(`bob-${b1}`));
    expect(await sidsOf(store, user)).toEqual([a1, a2].sort());
    const listed = await store.sessionsOf(principalOf('local', user));
    const one = listed.find((s) => s.sid === a1);
    expect(one?.data.userAgent).toBe('UA one');
    expect(one?.lastSeenAt).toBeLessThanOrEqual(Date.now());
    expect(one?.lastSeenAt).toBeGreaterThanOrEqual((one?.data.createdAt as number) - 1);
  });

  it('drops a session from the index when it is destroyed or ended', async () => {
    const [s1, s2] = [fresh(), fresh()];
    const user = `grace-${s1}`;
    await set(store, s1, data(user));
    await set(store, s2, data(user));
    await destroy(store, s1);
    expect(await sidsOf(store, user)).toEqual([s2]);
    expect((await store.end(s2))?.user?.id).toBe(user);
    expect(await store.end(s2)).toBeNull();
    expect(await sidsOf(store, user)).toEqual([]);
  });

  it('finds the sessions of a provider session', async () => {
    const [s1, s2, s3] = [fresh(), fresh(), fresh()];
    const psid = `op-${s1}`;
    await set(store, s1, data(`u-${s1}`, { providerSid: psid }));
    await set(store, s2, data(`u-${s1}`, { providerSid: psid }));
    await set(store, s3, data(`u-${s1}`, { providerSid: `other-${s1}` }));
    expect((await store.sidsOfProviderSession(psid)).sort()).toEqual([s1, s2].sort());
    await store.end(s1);
    expect(await store.sidsOfProviderSession(psid)).toEqual([s2]);
  });
});

describe('the memory index', () => {
  it('is bounded by the sessions: a refused session never enters it, an idled-out one leaves it', async () => {
    let now = 1_000_000;
    const idle = jest.fn();
    const store = new MemorySessionStore({
      max: 2,
      ttlMs: 1000,
      perf: { now: () => now },
      onIdleExpiry: idle,
    });
    const ada = principalOf('local', 'ada');
    store.set('a', data('ada'));
    store.set('b', data('ada'));
    store.set('c', data('ada'), () => undefined);
    expect((await store.sessionsOf(ada)).map((s) => s.sid).sort()).toEqual(['a', 'b']);
    now += 1001;
    expect(await store.sessionsOf(ada)).toEqual([]);
    expect(idle).toHaveBeenCalledTimes(2);
  });
});

describe('the Redis index', () => {
  it('keeps sorted sets scored by the absolute deadline, with a TTL, trimmed on sign-in', async () => {
    const store = new RedisSessionStore(client, { idleMs: IDLE_MS, absoluteMs: ABSOLUTE_MS });
    const user = `trim-${process.pid}`;
    const key = `${USER_INDEX_PREFIX}${sha(principalOf('local', user))}`;
    // A member whose deadline has passed, as a long-gone session leaves it.
    await client.zAdd(key, { score: Date.now() - 1, value: 'stale' });
    const createdAt = Date.now();
    await set(store, 'trim-1', data(user, { createdAt, providerSid: 'op-trim' }));
    expect(await client.zRangeWithScores(key, 0, -1)).toEqual([
      { value: 'trim-1', score: createdAt + ABSOLUTE_MS },
    ]);
    const pttl = await client.pTTL(key);
    expect(pttl).toBeGreaterThan(ABSOLUTE_MS - 60_000);
    expect(pttl).toBeLessThanOrEqual(ABSOLUTE_MS);
    expect(await client.exists(`${PROVIDER_INDEX_PREFIX}${sha('op-trim')}`)).toBe(1);
  });

  it('drops a member whose session idled out when the user is next listed', async () => {
    const store = new RedisSessionStore(client, { idleMs: IDLE_MS, absoluteMs: ABSOLUTE_MS });
    const user = `idle-${process.pid}`;
    await set(store, 'idle-1', data(user));
    await set(store, 'idle-2', data(user));
    await client.del(`${SESSION_KEY_PREFIX}idle-1`);
    expect((await store.sessionsOf(principalOf('local', user))).map((s) => s.sid)).toEqual([
      'idle-2',
    ]);
    const key = `${USER_INDEX_PREFIX}${sha(principalOf('local', user))}`;
    expect(await client.zRange(key, 0, -1)).toEqual(['idle-2']);
  });
});

describe('SessionHandles', () => {
  it('is stable for a secret, differs by sid and by secret, and never contains the sid', () => {
    const sid = 'k3Jd9-session-id-value';
    const a = new SessionHandles(['a'.repeat(16) + 'b'.repeat(16)]);
    const b = new SessionHandles(['c'.repeat(16) + 'd'.repeat(16)]);
    expect(a.of(sid)).toBe(a.of(sid));
    expect(a.of(sid)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a.of(sid)).not.toBe(a.of(`${sid}x`));
    expect(a.of(sid)).not.toBe(b.of(sid));
    expect(a.of(sid)).not.toContain(sid);
  });
});
