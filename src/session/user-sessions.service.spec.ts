import type { ConfigService } from '@nestjs/config';
import type { SessionData } from 'express-session';
import type { AppConfig } from '../config/config.schema';
import { MemorySessionStore } from './memory-session.store';
import type { SessionEvents } from './session-events';
import { UserSessions } from './user-sessions.service';
import { principalOf } from './principal';

const ABSOLUTE_SECONDS = 60;
const config = {
  get: () => ({ secrets: ['k'.repeat(32)], absoluteTimeoutSeconds: ABSOLUTE_SECONDS }),
} as unknown as ConfigService<AppConfig, true>;
const events = { ended: () => undefined } as unknown as SessionEvents;

const session = (createdAt: number): SessionData => ({
  cookie: { originalMaxAge: null },
  user: {
    id: 'ada',
    name: 'Ada',
    email: 'ada@example.test',
    principal: principalOf('local', 'ada'),
  },
  createdAt,
});

describe('UserSessions', () => {
  afterEach(() => jest.useRealTimers());

  it('lists only sessions within their absolute timeout, though the store still holds the others', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    // An idle timeout far longer than the absolute one: the store alone would keep both.
    const store = new MemorySessionStore({ max: 10, ttlMs: 3_600_000 });
    const sessions = new UserSessions(config, store, events);
    const now = Date.now();
    store.set('old', session(now - ABSOLUTE_SECONDS * 1000));
    store.set('new', session(now - ABSOLUTE_SECONDS * 1000 + 1));
    expect((await store.sessionsOf(principalOf('local', 'ada'))).map((s) => s.sid).sort()).toEqual([
      'new',
      'old',
    ]);
    expect((await sessions.list(principalOf('local', 'ada'))).map((s) => s.sid)).toEqual(['new']);
  });
});
