import { pathPattern } from './path-pattern';

describe('pathPattern', () => {
  it.each([
    ['/questions/**', '/questions', true],
    ['/questions/**', '/questions/1/answers', true],
    ['/questions/**', '/questionsx', false],
    ['/questions/*', '/questions/1', true],
    ['/questions/*', '/questions/1/answers', false],
    ['/questions/*/answers', '/questions/7/answers', true],
    ['/questions/*/answers', '/questions/answers', false],
    ['/**', '/anything/at/all', true],
    ['/a.b', '/axb', false],
    ['/v*/items', '/v2/items', true],
  ])('%s against %s -> %s', (pattern, path, expected) => {
    expect(pathPattern(pattern).test(path)).toBe(expected);
  });
});
