import { BffError } from '../http/error-codes';
import { assertForwardedMethod, upstreamTarget } from './path-policy';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof BffError ? err.code : 'other';
  }
}

describe('upstreamTarget', () => {
  it('keeps the path below the prefix and the query string byte for byte', () => {
    expect(upstreamTarget('/api/gather/questions?limit=5&q=a%20b&x=%2F')).toEqual({
      path: '/questions',
      search: '?limit=5&q=a%20b&x=%2F',
    });
    expect(upstreamTarget('/api/gather/questions/42/answers')).toEqual({
      path: '/questions/42/answers',
      search: '',
    });
    expect(upstreamTarget('/api/gather/caf%C3%A9/a.b/..x')).toEqual({
      path: '/caf%C3%A9/a.b/..x',
      search: '',
    });
    // Encoded reserved characters are data, and `;` in the query is the query's business.
    expect(upstreamTarget('/api/gather/a%20b%3Bc%40%2B?x=1;y=2')).toEqual({
      path: '/a%20b%3Bc%40%2B',
      search: '?x=1;y=2',
    });
  });

  it.each([
    ['/api/gather/../auth/me', 'dot-dot segment'],
    ['/api/gather/a/./b', 'dot segment'],
    ['/api/gather/a/..', 'trailing dot-dot'],
    ['/api/gather/%2e%2e/x', 'encoded dot-dot'],
    ['/api/gather/.%2E/x', 'mixed dot-dot'],
    ['/api/gather/%2E', 'encoded dot'],
    ['/api/gather/a%2fb', 'encoded slash'],
    ['/api/gather/a%2Fb', 'encoded slash, upper case'],
    ['/api/gather/a%5cb', 'encoded backslash'],
    ['/api/gather/a\\b', 'raw backslash'],
    ['/api/gather/%252e%252e/x', 'double-encoded dot-dot'],
    ['/api/gather/a%252fb', 'double-encoded slash'],
    ['/api/gather/a%00b', 'encoded NUL'],
    ['/api/gather/a%0Ab', 'encoded newline'],
    ['/api/gather/a%7f', 'encoded DEL'],
    ['/api/gather/a\u0001b', 'raw control character'],
    ['/api/gather/a%zz', 'malformed percent-encoding'],
    ['/api/gather/a%', 'truncated percent-encoding'],
    ['/api/gather//x', 'empty segment'],
    ['http://evil.example/api/gather/x', 'absolute-form target'],
    ['/api/gatherx/y', 'outside the prefix'],
    ['/api/gather/questions/..;/..;/admin', 'dot-dot with a path parameter'],
    ['/api/gather/a/.;/b', 'dot with a path parameter'],
    ['/api/gather/a;jsessionid=1/b', 'path parameter'],
    ['/api/gather/question%73/d', 'encoded unreserved letter'],
    ['/api/gather/%71uestions', 'encoded unreserved letter, first'],
    ['/api/gather/a%2Eb', 'encoded dot inside a segment'],
    ['/api/gather/%30', 'encoded digit'],
    ['/api/gather/%2d%5F%7e', 'encoded - _ ~'],
    ['/api/gather/a#b', 'raw fragment'],
    ['/api/gather/a?b#c', 'raw fragment in the query'],
  ])('refuses %s (%s) with BAD_REQUEST', (url) => {
    expect(codeOf(() => upstreamTarget(url))).toBe('BAD_REQUEST');
  });
});

describe('assertForwardedMethod', () => {
  it.each(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'])('forwards %s', (m) => {
    expect(codeOf(() => assertForwardedMethod(m))).toBeUndefined();
  });
  it.each(['TRACE', 'CONNECT', 'OPTIONS', 'PROPFIND'])('refuses %s with 405', (m) => {
    expect(codeOf(() => assertForwardedMethod(m))).toBe('METHOD_NOT_ALLOWED');
  });
});
