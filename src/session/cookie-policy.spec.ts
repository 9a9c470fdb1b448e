import { sessionCookiePolicy } from './cookie-policy';

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
