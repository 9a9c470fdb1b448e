import { ConfigService } from '@nestjs/config';
import { Cookie, type SessionData } from 'express-session';
import type { AppConfig } from '../config/config.schema';
import type { ProviderRecheck } from './provider-recheck';
import type { SignedInUser } from './session-user';
import { SessionValidity } from './session-validity';

const ABSOLUTE_MS = 60_000;
const CREATED = 1_000_000;
const user: SignedInUser = { id: 'u1', name: 'U', email: 'u@example.test', principal: 'local:u1' };

/** A provider re-check that is due for sessions with a refresh token and answers `live`. */
function recheckAnswering(live: boolean): Pick<ProviderRecheck, 'isDue' | 'check'> & {
  checked: string[];
} {
  const checked: string[] = [];
  return {
    checked,
    isDue: (data) => data.refreshToken !== undefined,
    check: (sid) => {
      checked.push(sid);
      return Promise.resolve(live);
    },
  };
}

function validity(recheck: Pick<ProviderRecheck, 'isDue' | 'check'>): SessionValidity {
  const config = new ConfigService<AppConfig, true>({
    session: { absoluteTimeoutSeconds: ABSOLUTE_MS / 1000 },
  });
  return new SessionValidity(config, recheck);
}

const session = (extra: Partial<SessionData> = {}): SessionData => ({
  cookie: new Cookie(),
  user,
  createdAt: CREATED,
  ...extra,
});

describe('SessionValidity', () => {
  it('gives the user of a live session, synchronously, when no re-check is due', () => {
    const recheck = recheckAnswering(true);
    expect(validity(recheck).verdict('s1', session(), 'r1', CREATED + 1)).toBe(user);
    expect(recheck.checked).toEqual([]);
  });

  it("says 'absolute' once the absolute timeout has passed, without asking the provider", () => {
    const recheck = recheckAnswering(true);
    const v = validity(recheck);
    expect(v.verdict('s1', session({ refreshToken: 't' }), 'r1', CREATED + ABSOLUTE_MS)).toBe(
      'absolute',
    );
    expect(recheck.checked).toEqual([]);
  });

  it("says 'none' for a session without a user", () => {
    const empty = session({ user: undefined });
    expect(validity(recheckAnswering(true)).verdict('s1', empty, 'r1', CREATED + 1)).toBe('none');
  });

  it('re-checks a due session at the provider: the user while it stands', async () => {
    const recheck = recheckAnswering(true);
    const verdict = validity(recheck).verdict('s1', session({ refreshToken: 't' }), 'r1', CREATED);
    expect(verdict).toBeInstanceOf(Promise);
    await expect(verdict).resolves.toBe(user);
    expect(recheck.checked).toEqual(['s1']);
  });

  it("says 'ended' when the provider refused a due session", async () => {
    const recheck = recheckAnswering(false);
    await expect(
      validity(recheck).verdict('s1', session({ refreshToken: 't' }), 'r1', CREATED),
    ).resolves.toBe('ended');
  });
});
