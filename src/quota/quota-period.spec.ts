import { dayPeriod, monthPeriod, periodOf, periodSeconds, secondsUntilEnd } from './quota-period';

const at = (iso: string): Date => new Date(iso);

describe('quota periods', () => {
  it('a day is the UTC calendar day, whatever the local zone', () => {
    const day = dayPeriod(at('2026-12-07T23:59:59.999Z'));
    expect(day.id).toBe('2026-12-07');
    expect(day.start.toISOString()).toBe('2026-12-07T00:00:00.000Z');
    expect(day.end.toISOString()).toBe('2026-12-08T00:00:00.000Z');
    expect(periodSeconds(day)).toBe(86400);
    expect(dayPeriod(at('2026-12-08T00:00:00.000Z')).id).toBe('2026-12-08');
  });

  it('a month runs from monthStartDay at UTC midnight to the same day of the next month', () => {
    const m = monthPeriod(at('2026-12-07T10:00:00Z'), 15);
    expect(m.start.toISOString()).toBe('2026-11-15T00:00:00.000Z');
    expect(m.end.toISOString()).toBe('2026-12-15T00:00:00.000Z');
    expect(periodSeconds(m)).toBe(30 * 86400);
    // On the start day itself, the new month has begun.
    expect(monthPeriod(at('2026-12-15T00:00:00Z'), 15).id).toBe('2026-12-15');
    expect(monthPeriod(at('2026-12-14T23:59:59Z'), 15).id).toBe('2026-11-15');
  });

  it('month periods cross the year and February', () => {
    expect(monthPeriod(at('2027-01-03T00:00:00Z'), 28).id).toBe('2026-12-28');
    const feb = monthPeriod(at('2028-02-28T12:00:00Z'), 28);
    expect(feb.end.toISOString()).toBe('2028-03-28T00:00:00.000Z');
    expect(periodSeconds(feb)).toBe(29 * 86400); // 2028 is a leap year
    const jan = monthPeriod(at('2026-01-31T23:00:00Z'), 1);
    expect([jan.start.toISOString(), jan.end.toISOString()]).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-02-01T00:00:00.000Z',
    ]);
    expect(monthPeriod(at('2026-12-31T23:59:59Z'), 1).end.toISOString()).toBe(
      '2027-01-01T00:00:00.000Z',
    );
  });

  it('seconds until renewal round up and are at least 1', () => {
    const day = dayPeriod(at('2026-12-07T23:59:59.999Z'));
    expect(secondsUntilEnd(day, at('2026-12-07T23:59:59.999Z'))).toBe(1);
    expect(secondsUntilEnd(day, at('2026-12-07T23:59:58.500Z'))).toBe(2);
    expect(secondsUntilEnd(day, at('2026-12-07T00:00:00.000Z'))).toBe(86400);
  });

  it('a remembered period gives way at its end, and each month start day has its own', () => {
    const late = new Date('2026-12-07T23:59:59.999Z');
    expect(periodOf('day', late, 1)).toBe(periodOf('day', late, 1));
    expect(periodOf('day', new Date('2026-12-08T00:00:00Z'), 1).id).toBe('2026-12-08');
    expect(periodOf('day', new Date('2026-12-06T12:00:00Z'), 1).id).toBe('2026-12-06');
    expect(periodOf('month', late, 1).id).toBe('2026-12-01');
    expect(periodOf('month', late, 15).id).toBe('2026-11-15');
    expect(periodOf('month', late, 1).id).toBe('2026-12-01');
    expect(periodOf('month', new Date('2027-01-01T00:00:00Z'), 1).id).toBe('2027-01-01');
  });
});
