import { pathPattern } from '../http/path-pattern';
import { compileRules } from './allow-list';

describe('allow-list patterns', () => {
  it('`**` matches any depth, including none', () => {
    const re = pathPattern('/**');
    for (const p of ['/', '/questions', '/questions/1/answers']) expect(re.test(p)).toBe(true);
  });

  it('`*` matches exactly one segment', () => {
    const re = pathPattern('/questions/*');
    expect(re.test('/questions/1')).toBe(true);
    expect(re.test('/questions/1/answers')).toBe(false);
    expect(re.test('/questions')).toBe(false);
  });

  it('`**` in the middle and literal characters are not regex syntax', () => {
    const re = pathPattern('/a/**/b.json');
    expect(re.test('/a/b.json')).toBe(true);
    expect(re.test('/a/x/y/b.json')).toBe(true);
    expect(re.test('/a/x/bXjson')).toBe(false);
  });

  it('matches method and path together; `*` method means any', () => {
    const m = compileRules([
      { method: 'GET', path: '/questions/**' },
      { method: '*', path: '/ping' },
    ]);
    expect(m.matches('GET', '/questions/1')).toBe(true);
    expect(m.matches('DELETE', '/questions/1')).toBe(false);
    expect(m.matches('PATCH', '/ping')).toBe(true);
    expect(m.matches('GET', '/answers')).toBe(false);
  });
});
