import { loggedUrl } from './logged-url';

describe('loggedUrl', () => {
  it.each([
    '/auth/callback?code=c&state=s',
    '/auth/callback/?code=c&state=s',
    '/Auth/Callback?code=c',
    '/AUTH/CALLBACK?code=c',
    '//auth/callback?code=c',
    '/auth//callback?code=c',
    '/./auth/callback?code=c',
    '/x/../auth/callback?code=c',
    '/auth;x/callback?code=c',
    '/%61uth/callback?code=c',
    '/%2561uth/callback?code=c',
    '\\auth\\callback?code=c',
    '/auth/login?returnTo=/x&code=c',
    '/auth?code=c',
    'http://localhost:3000/auth/callback?code=c',
    'HTTPS://host//Auth/callback/?code=c',
  ])('redacts the query of %s', (url) => {
    const logged = loggedUrl(url);
    expect(logged).toBe(`${url.slice(0, url.indexOf('?'))}?[redacted]`);
    expect(logged).not.toContain('code=');
  });

  it.each([
    '/api/gather/questions?page=2',
    '/api/gather/auth/callback?page=2',
    '/authx/callback?page=2',
    '/auth/callback',
    '/healthz',
  ])('keeps %s as it is', (url) => {
    expect(loggedUrl(url)).toBe(url);
  });
});
