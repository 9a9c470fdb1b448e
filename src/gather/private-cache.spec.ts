import { privateCacheControl, varyWithCookie } from './private-cache';

describe('privateCacheControl', () => {
  it.each([
    ['public, max-age=31536000, s-maxage=99', 'private, max-age=31536000'],
    ['PUBLIC, Max-Age=60, S-MAXAGE=600', 'private, Max-Age=60'],
    ['max-age=60', 'private, max-age=60'],
    ['public', 'private'],
    ['private', 'private'],
    ['max-age=60, private', 'private, max-age=60'],
    ['private="set-cookie", max-age=60', 'private, max-age=60'],
    [
      'no-cache="set-cookie, x-a", public, max-age=5',
      'private, no-cache="set-cookie, x-a", max-age=5',
    ],
    ['no-cache="a,public", max-age=5', 'private, no-cache="a,public", max-age=5'],
    ['no-store', 'private, no-store'],
    ['  no-cache ,must-revalidate,,  ', 'private, no-cache, must-revalidate'],
    [
      'max-age=60, stale-while-revalidate=30, immutable',
      'private, max-age=60, stale-while-revalidate=30, immutable',
    ],
  ])('%j → %j', (gather, browser) => {
    expect(privateCacheControl(gather)).toBe(browser);
  });

  it('answers no-store when Gather sent none, or nothing that parses', () => {
    expect(privateCacheControl(undefined)).toBe('no-store');
    expect(privateCacheControl('')).toBe('no-store');
    expect(privateCacheControl(' , ')).toBe('no-store');
    expect(privateCacheControl('max-age=1 public')).toBe('no-store');
  });

  it('drops a directive that does not parse rather than let a lenient cache misread it', () => {
    expect(privateCacheControl('max-age=60, public s-maxage=99')).toBe('private, max-age=60');
    expect(privateCacheControl('max-age=60, no-cache="unterminated, public')).toBe(
      'private, max-age=60',
    );
    expect(privateCacheControl('max-age = 60, no-store')).toBe('private, no-store');
  });
});

describe('varyWithCookie', () => {
  it.each([
    [undefined, 'Cookie'],
    ['', 'Cookie'],
    ['Accept-Encoding', 'Accept-Encoding, Cookie'],
    ['Accept, cookie', 'Accept, cookie'],
    ['Accept,COOKIE ,Origin', 'Accept, COOKIE, Origin'],
    ['*', '*, Cookie'],
  ])('%j → %j', (gather, browser) => {
    expect(varyWithCookie(gather)).toBe(browser);
  });
});
