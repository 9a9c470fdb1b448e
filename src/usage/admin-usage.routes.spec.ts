import { BffError } from '../http/error-codes';
import { usageCsv, usageQuery } from './admin-usage.routes';

const query = (q: string) => usageQuery(new URLSearchParams(q), '2026-12-07');
const refusal = (q: string): string | undefined => {
  try {
    query(q);
    return undefined;
  } catch (err) {
    return err instanceof BffError ? err.code : 'other';
  }
};

describe('GET /admin/usage parameters', () => {
  it('from and to default to today (UTC)', () => {
    expect(query('by=team')).toEqual({ by: 'team', from: '2026-12-07', to: '2026-12-07' });
  });

  it('refuses a bad by or date, from after to, and more than 92 days', () => {
    for (const q of [
      'by=users',
      'from=2026-12-01',
      'by=user&from=2026-2-1',
      'by=user&from=2026-02-29&to=2026-03-01',
      'by=user&from=2026-12-08',
      'by=user&from=2026-09-06&to=2026-12-07',
    ]) {
      expect([q, refusal(q)]).toEqual([q, 'BAD_REQUEST']);
    }
    expect(refusal('by=key&from=2026-09-07&to=2026-12-07')).toBeUndefined();
    expect(refusal('by=user&from=2028-02-29&to=2028-02-29')).toBeUndefined();
  });

  it('CSV quotes a name only when it must', () => {
    expect(
      usageCsv([
        { date: '2026-12-07', name: 'a,"b"', calls: 1, errors: 0, throttled: 2 },
        { date: '2026-12-07', name: 'plain', calls: 3, errors: 1, throttled: 0 },
      ]),
    ).toBe(
      'date,name,calls,errors,throttled\r\n2026-12-07,"a,""b""",1,0,2\r\n2026-12-07,plain,3,1,0\r\n',
    );
  });
});
