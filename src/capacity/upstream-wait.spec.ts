import { exhaustedFor, retryAfterSeconds, upstreamWait } from './upstream-wait';

const NOW = Date.parse('2026-12-07T20:00:00.000Z');
const CAP = 300;

const wait = (status: number, headers: Record<string, string>, raw?: string[]) =>
  upstreamWait(
    status,
    headers,
    raw ?? Object.entries(headers).flatMap(([name, value]) => [name, value]),
    NOW,
    CAP,
  );

describe('the wait Gather asks for', () => {
  it('reads Retry-After as whole seconds, at least 1', () => {
    expect(retryAfterSeconds('30', NOW)).toBe(30);
    expect(retryAfterSeconds(' 1 ', NOW)).toBe(1);
    expect(retryAfterSeconds('0', NOW)).toBeUndefined();
  });

  it('reads Retry-After as an HTTP date in the future, rounded up', () => {
    expect(retryAfterSeconds('Mon, 07 Dec 2026 20:00:20 GMT', NOW)).toBe(20);
    expect(retryAfterSeconds('Mon, 07 Dec 2026 20:00:20 GMT', NOW + 500)).toBe(20);
    expect(retryAfterSeconds('Mon, 07 Dec 2026 20:00:00 GMT', NOW)).toBeUndefined();
    expect(retryAfterSeconds('Mon, 07 Dec 2026 19:59:00 GMT', NOW)).toBeUndefined();
  });

  it.each(['-5', '1.5', '5, 10', 'soon', '', '0x10', '1e3', '+5', '2026-12-07T20:00:20Z'])(
    'ignores Retry-After %p',
    (value) => {
      expect(retryAfterSeconds(value, NOW)).toBeUndefined();
      expect(wait(429, { 'retry-after': value })).toBeUndefined();
    },
  );

  it('pauses on a 429 or a 503 with a usable Retry-After, with its status, capped', () => {
    expect(wait(429, { 'retry-after': '30' })).toEqual({ seconds: 30, status: 429 });
    expect(wait(503, { 'retry-after': '7' })).toEqual({ seconds: 7, status: 503 });
    expect(wait(429, { 'retry-after': '999999999999' })).toEqual({ seconds: CAP, status: 429 });
    expect(wait(503, {})).toBeUndefined();
    expect(wait(429, {})).toBeUndefined();
    // Another status's Retry-After is no pause.
    expect(wait(500, { 'retry-after': '30' })).toBeUndefined();
    expect(wait(200, { 'retry-after': '30' })).toBeUndefined();
  });

  it('ignores a repeated Retry-After (Node keeps only the first line)', () => {
    expect(
      wait(429, { 'retry-after': '30' }, ['Retry-After', '30', 'retry-after', '60']),
    ).toBeUndefined();
  });

  it('pauses on a RateLimit item with r=0 and t >= 1 on any answer, as a 429', () => {
    expect(wait(200, { ratelimit: '"gather";r=0;t=12' })).toEqual({ seconds: 12, status: 429 });
    expect(wait(503, { ratelimit: '"a";r=5;t=9, "b";r=0;t=4, "c";r=0;t=6' })).toEqual({
      seconds: 6,
      status: 429,
    });
    expect(wait(200, { ratelimit: '"gather";r=0;t=100000' })).toEqual({
      seconds: CAP,
      status: 429,
    });
  });

  it('ignores RateLimit items that leave something, or give no usable t, or do not parse', () => {
    for (const value of [
      '"g";r=1;t=12',
      '"g";r=0;t=0',
      '"g";r=0;t=-3',
      '"g";r=0;t=1.5',
      '"g";r=0',
      '"g";r=0;t="12"',
      'r=0;t=12;;',
      '"g";r=0;t=12 garbage',
    ]) {
      expect(exhaustedFor(value)).toBeUndefined();
      expect(wait(200, { ratelimit: value })).toBeUndefined();
    }
  });

  it('prefers a usable Retry-After to a RateLimit item, else falls back to the item', () => {
    expect(wait(503, { 'retry-after': '5', ratelimit: '"g";r=0;t=50' })).toEqual({
      seconds: 5,
      status: 503,
    });
    expect(wait(503, { 'retry-after': 'junk', ratelimit: '"g";r=0;t=50' })).toEqual({
      seconds: 50,
      status: 429,
    });
  });
});
