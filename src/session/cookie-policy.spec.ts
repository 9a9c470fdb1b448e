import { bffCookies, sessionCookiePolicy } from './cookie-policy';

describe('sessionCookiePolicy', () => {
  it('uses the __Host- name and Secure when cookies are secure, and nothing else (no Domain, Max-Age)', () => {
    expect(sessionCookiePolicy({ cookieSecure: true, cookieSameSite: 'strict' })).toEqual({
      name: '__Host-gather_session',
      options: { httpOnly: true, path: '/', secure: true, sameSite: 'strict' },
    });
  });

  it('uses the plain name without Secure on plain http, and honours SameSite=Lax', () => {
    expect(sessionCookiePolicy({ cookieSecure: false, cookieSameSite: 'lax' })).toEqual({
      name: 'gather_session',
      options: { httpOnly: true, path: '/', secure: false, sameSite: 'lax' },
    });
  });
});

describe('bffCookies', () => {
  it('is the one table of every cookie: the session and the sign-in transactions', () => {
    expect(bffCookies({ cookieSecure: true, cookieSameSite: 'strict' }, 600)).toEqual({
      session: {
        name: '__Host-gather_session',
        options: { httpOnly: true, path: '/', secure: true, sameSite: 'strict' },
      },
      transaction: {
        name: '__Host-gather_oidc',
        options: { httpOnly: true, path: '/', secure: true, sameSite: 'lax' },
        maxAgeMs: 600_000,
      },
    });
  });
});
