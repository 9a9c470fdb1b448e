import { transactionCookiePolicy } from './oidc-cookie';

describe('transactionCookiePolicy', () => {
  it('is __Host-, Secure, HttpOnly, Path=/, Lax and lives for the TTL with secure cookies', () => {
    expect(transactionCookiePolicy({ cookieSecure: true, cookieSameSite: 'strict' }, 600)).toEqual({
      name: '__Host-gather_oidc',
      options: { httpOnly: true, path: '/', secure: true, sameSite: 'lax' },
      maxAgeMs: 600_000,
    });
  });

  it('drops the prefix and Secure on plain http, and stays Lax whatever the session uses', () => {
    expect(transactionCookiePolicy({ cookieSecure: false, cookieSameSite: 'lax' }, 5)).toEqual({
      name: 'gather_oidc',
      options: { httpOnly: true, path: '/', secure: false, sameSite: 'lax' },
      maxAgeMs: 5000,
    });
  });
});
