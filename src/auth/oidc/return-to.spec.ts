import { safeReturnTo } from './return-to';

describe('safeReturnTo', () => {
  it.each([
    '/',
    '/questions',
    '/questions/42?tab=answers&sort=desc',
    '/search?q=a%2Fb',
    '/a/b#section-2',
    '/caf%C3%A9',
    '/café',
    '/path:with:colons',
    '/?next=https://example.com',
  ])('keeps the same-origin path %j as given', (path) => {
    expect(safeReturnTo(path)).toBe(path);
  });

  it.each([
    ['protocol-relative', '//evil.example'],
    ['protocol-relative with a path', '//evil.example/x'],
    ['three slashes', '///evil.example'],
    ['backslash after the slash', '/\\evil.example'],
    ['backslash later on', '/a\\b'],
    ['absolute https URL', 'https://evil.example/'],
    ['absolute http URL', 'http://localhost:3000/'],
    ['javascript scheme', 'javascript:alert(1)'],
    ['data scheme', 'data:text/html,<script>alert(1)</script>'],
    ['relative path', 'questions'],
    ['dot-relative path', './questions'],
    ['empty', ''],
    ['leading space', ' /questions'],
    ['encoded slash making //', '/%2F%2Fevil.example'],
    ['encoded slash after the first', '/%2Fevil.example'],
    ['lower-case encoded slash', '/%2fevil.example'],
    ['encoded backslash', '/%5Cevil.example'],
    ['lower-case encoded backslash', '/%5cevil.example'],
    ['double-encoded slash', '/%252F%252Fevil.example'],
    ['triple-encoded backslash', '/%25255Cevil.example'],
    ['encoded scheme', '%2F%2Fevil.example'],
    ['tab inside //', '/\t/evil.example'],
    ['newline', '/a\nb'],
    ['carriage return + line feed (header injection)', '/a\r\nSet-Cookie: x=1'],
    ['NUL', '/a\u0000b'],
    ['DEL', '/a\u007fb'],
    ['encoded tab inside //', '/%09/evil.example'],
    ['encoded CR LF', '/a%0D%0ASet-Cookie:%20x=1'],
    ['encoded NUL', '/a%00b'],
    ['double-encoded newline', '/a%250Ab'],
    ['malformed percent-encoding', '/100%'],
    ['malformed UTF-8', '/%C3'],
    ['too long', `/${'a'.repeat(2048)}`],
  ])('answers / for %s', (_case, path) => {
    expect(safeReturnTo(path)).toBe('/');
  });

  it.each([
    ['missing', undefined],
    ['given twice (an array)', ['/a', '/b']],
    ['an object (qs brackets)', { a: '/x' }],
    ['a number', 42],
  ])('answers / when the parameter is %s', (_case, value) => {
    expect(safeReturnTo(value)).toBe('/');
  });
});
