import { readCookie, transactionCookiePolicy } from './oidc-cookie';

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

describe('readCookie', () => {
  it('finds one cookie among several, without trimming into its value', () => {
    const header = 'gather_session=s%3Aabc.def; gather_oidc=v1.x-y_z; other=1';
    expect(readCookie(header, 'gather_oidc')).toBe('v1.x-y_z');
    expect(readCookie(header, 'gather_session')).toBe('s%3Aabc.def');
  });

  it('answers undefined without the cookie, for a prefix match or without a header', () => {
    expect(readCookie('xgather_oidc=1; gather_oidcx=2', 'gather_oidc')).toBeUndefined();
    expect(readCookie('', 'gather_oidc')).toBeUndefined();
    expect(readCookie(undefined, 'gather_oidc')).toBeUndefined();
  });

  it('takes the first of two, the more specific one a browser sends first', () => {
    expect(readCookie('gather_oidc=a; gather_oidc=b', 'gather_oidc')).toBe('a');
  });
});
