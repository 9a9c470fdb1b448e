import { methodLabel, routeLabel } from './route-label';

describe('routeLabel', () => {
  it.each([
    ['/api/gather/questions?page=2', 'api'],
    ['/api', 'api'],
    ['/API/gather/x', 'api'],
    ['/auth/login', 'auth'],
    ['/auth/callback?code=abc&state=def', 'auth'],
    ['/auth', 'auth'],
    ['/healthz', 'health'],
    ['/readyz', 'health'],
    ['/healthz/', 'health'],
    ['/', 'other'],
    ['/metrics', 'other'],
    ['/apix', 'other'],
    ['/authority/x', 'other'],
    ['/healthzz', 'other'],
    ['/x/api/gather', 'other'],
    ['/nope?next=/api/gather', 'other'],
    ['', 'other'],
  ])('%s -> %s', (url, label) => {
    expect(routeLabel(url)).toBe(label);
  });
});

describe('methodLabel', () => {
  it.each([
    ['GET', 'GET'],
    ['delete', 'DELETE'],
    ['OPTIONS', 'OPTIONS'],
    ['PROPFIND', 'other'],
    ['TRACE', 'other'],
    [undefined, 'other'],
  ])('%s -> %s', (method, label) => {
    expect(methodLabel(method)).toBe(label);
  });
});
