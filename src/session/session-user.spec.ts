import { principalOf } from './principal';
import { liveUser } from './session-user';

const ABSOLUTE_MS = 60_000;
const user = { id: 'bob', name: 'Bob', email: 'bob@example.test' };

describe('liveUser', () => {
  it('is the stored user while the absolute timeout has not passed', () => {
    const data = { user: { ...user, principal: principalOf('oidc', 'bob') }, createdAt: 1000 };
    expect(liveUser(data, ABSOLUTE_MS, 1000 + ABSOLUTE_MS - 1)?.principal).toBe('oidc:bob');
    expect(liveUser(data, ABSOLUTE_MS, 1000 + ABSOLUTE_MS)).toBeUndefined();
  });

  it('is none for a session stored before sessions named their principal: it signs in again', () => {
    const legacy = JSON.parse(JSON.stringify({ user, createdAt: 1000 })) as Parameters<
      typeof liveUser
    >[0];
    expect(liveUser(legacy, ABSOLUTE_MS, 2000)).toBeUndefined();
  });
});
