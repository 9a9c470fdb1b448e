import type { SessionData } from 'express-session';
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

  it('evicts the least recently used session beyond max', () => {
    const store = new MemorySessionStore({ max: 2, ttlMs: 60_000, perf: clock });
    store.set('a', session('a'));
    store.set('b', session('b'));
    read(store, 'a');
    store.set('c', session('c'));
    expect(read(store, 'b')).toBeNull();
    expect(read(store, 'a')?.user?.id).toBe('a');
    expect(read(store, 'c')?.user?.id).toBe('c');
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
