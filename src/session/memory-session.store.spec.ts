import type { SessionData } from 'express-session';
import { BffError } from '../http/error-codes';
import { MemorySessionStore } from './memory-session.store';
import { principalOf } from './principal';

const session = (id: string): SessionData => ({
  cookie: { originalMaxAge: null },
  user: { id, name: id, email: `${id}@example.test`, principal: principalOf('local', id) },
});

function read(store: MemorySessionStore, sid: string): SessionData | null | undefined {
  let result: SessionData | null | undefined;
  store.get(sid, (err, s) => {
    expect(err).toBeNull();
    result = s;
  });
  return result;
}

describe('MemorySessionStore', () => {
  let now: number;
  const clock = { now: () => now };
  beforeEach(() => {
    now = 1_000_000;
  });

  it('returns what was set, and nothing for an unknown id', () => {
    const store = new MemorySessionStore({ max: 10, ttlMs: 1000, perf: clock });
    store.set('a', session('ada'));
    expect(read(store, 'a')?.user?.id).toBe('ada');
    expect(read(store, 'nope')).toBeNull();
  });

  it('hands out copies, so changing a loaded session does not change the store', () => {
    const store = new MemorySessionStore({ max: 10, ttlMs: 1000, perf: clock });
    store.set('a', session('ada'));
    (read(store, 'a')?.user as { id: string }).id = 'mallory';
    expect(read(store, 'a')?.user?.id).toBe('ada');
  });

  it('shares one frozen copy with the proxied path until the session is written again', async () => {
    const store = new MemorySessionStore({ max: 10, ttlMs: 1000, perf: clock });
    store.set('a', session('ada'));
    const first = await store.lookup('a');
    expect(await store.lookup('a')).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first?.user)).toBe(true);
    expect(() => {
      (first?.user as { id: string }).id = 'mallory';
    }).toThrow(TypeError);
    expect(read(store, 'a')?.user?.id).toBe('ada');
    await store.update('a', session('bob'));
    expect((await store.lookup('a'))?.user?.id).toBe('bob');
    expect(await store.lookup('nope')).toBeNull();
  });

  /** `set`'s outcome: undefined when stored, else the error it called back with. */
  const setOutcome = (store: MemorySessionStore, sid: string, data: SessionData): unknown => {
    let outcome: unknown = 'no callback';
    store.set(sid, data, (err) => (outcome = err));
    return outcome;
  };

  it('refuses a new session when full (503) rather than evicting anyone, and takes it once there is room', () => {
    const store = new MemorySessionStore({ max: 2, ttlMs: 60_000, perf: clock });
    expect(setOutcome(store, 'a', session('a'))).toBeUndefined();
    now += 30_000;
    expect(setOutcome(store, 'b', session('b'))).toBeUndefined();
    const refused = setOutcome(store, 'c', session('c'));
    expect(refused).toBeInstanceOf(BffError);
    expect((refused as BffError).code).toBe('SERVICE_UNAVAILABLE');
    expect(read(store, 'c')).toBeNull();
    expect(read(store, 'a')?.user?.id).toBe('a');
    expect(read(store, 'b')?.user?.id).toBe('b');
    // One ends: room again.
    store.destroy('a');
    now += 20_000;
    expect(setOutcome(store, 'c', session('c'))).toBeUndefined();
    // One idles out (never read since): its place is taken, nobody live is evicted.
    now += 40_001;
    expect(setOutcome(store, 'd', session('d'))).toBeUndefined();
    expect(read(store, 'b')).toBeNull();
    expect(read(store, 'c')?.user?.id).toBe('c');
    expect(read(store, 'd')?.user?.id).toBe('d');
  });

  it('when full, still rewrites, updates and touches the sessions it holds', async () => {
    const store = new MemorySessionStore({ max: 2, ttlMs: 1000, perf: clock });
    store.set('a', session('a'));
    store.set('b', session('b'));
    let loaded: SessionData | undefined;
    store.load('a', (_err, s) => (loaded = s));
    (loaded as SessionData).userAgent = 'changed';
    expect(setOutcome(store, 'a', loaded as SessionData)).toBeUndefined();
    expect(read(store, 'a')?.userAgent).toBe('changed');
    await store.update('b', { ...session('b'), userAgent: 'updated' });
    expect(read(store, 'b')?.userAgent).toBe('updated');
    now += 800;
    store.touch('a', session('a'));
    now += 800;
    expect(read(store, 'a')?.user?.id).toBe('a');
    expect(read(store, 'b')).toBeNull();
  });

  it('forgets a session once its idle TTL has passed', () => {
    const store = new MemorySessionStore({ max: 10, ttlMs: 1000, perf: clock });
    store.set('a', session('a'));
    now += 999;
    expect(read(store, 'a')).not.toBeNull();
    now += 2;
    expect(read(store, 'a')).toBeNull();
  });

  it('restarts the idle clock on touch without rewriting the session', () => {
    const store = new MemorySessionStore({ max: 10, ttlMs: 1000, perf: clock });
    store.set('a', session('ada'));
    now += 800;
    store.touch('a', session('someone-else'));
    now += 800;
    expect(read(store, 'a')?.user?.id).toBe('ada');
    now += 201;
    expect(read(store, 'a')).toBeNull();
  });

  it('does not bring back an expired or unknown session on touch', () => {
    const store = new MemorySessionStore({ max: 10, ttlMs: 1000, perf: clock });
    store.set('a', session('a'));
    now += 1001;
    store.touch('a', session('a'));
    store.touch('b', session('b'));
    expect(read(store, 'a')).toBeNull();
    expect(read(store, 'b')).toBeNull();
  });

  it('does not write back a loaded session that was destroyed or expired meanwhile', () => {
    const store = new MemorySessionStore({ max: 10, ttlMs: 1000, perf: clock });
    store.set('a', session('a'));
    store.set('b', session('b'));
    const load = (sid: string): SessionData => {
      let loaded: SessionData | undefined;
      store.load(sid, (_err, s) => (loaded = s));
      return loaded as SessionData;
    };
    const a = load('a');
    const b = load('b');
    store.destroy('a');
    store.set('a', a);
    expect(read(store, 'a')).toBeNull();
    now += 1001;
    store.set('b', b);
    expect(read(store, 'b')).toBeNull();
    // A session this store did not load (a login's new one) is created.
    store.set('c', session('c'));
    expect(read(store, 'c')?.user?.id).toBe('c');
  });

  it('destroys a session and answers callbacks and pings', async () => {
    const store = new MemorySessionStore({ max: 10, ttlMs: 1000, perf: clock });
    store.set('a', session('a'));
    const done = jest.fn();
    store.destroy('a', done);
    expect(done).toHaveBeenCalledWith();
    expect(read(store, 'a')).toBeNull();
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
