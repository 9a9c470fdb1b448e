import { retryAfterSeconds } from './retry-after.js';

describe('retryAfterSeconds', () => {
  const now = Date.parse('2026-11-27T10:00:00.000Z');

  it.each([
    ['12', 12],
    [' 0 ', 0],
    ['Fri, 27 Nov 2026 10:00:30 GMT', 30],
    // A date already past means "now", never a negative wait.
    ['Fri, 27 Nov 2026 09:59:00 GMT', 0],
    ['-5', null],
    ['1.5', null],
    ['soon', null],
    ['', null],
  ])('reads %j as %p', (value, seconds) => {
    expect(retryAfterSeconds(value, now)).toBe(seconds);
  });

  it('is null without the header', () => {
    expect(retryAfterSeconds(null, now)).toBeNull();
  });
});
