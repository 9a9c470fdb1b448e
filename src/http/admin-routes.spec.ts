import { AdminRoutes, type AdminRoute } from './admin-routes';

const route = (method: AdminRoute['method'], pattern: RegExp): AdminRoute => ({
  method,
  pattern,
  handle: () => Promise.resolve(),
});

describe('AdminRoutes', () => {
  const routes = new AdminRoutes();
  const list = route('GET', /^\/admin\/users\/([^/]+)\/sessions$/);
  const end = route('DELETE', /^\/admin\/users\/([^/]+)\/sessions$/);
  const usage = route('GET', /^\/admin\/usage$/);
  routes.add(list, end, usage);

  it('finds the route of the method and decodes each segment', () => {
    expect(routes.match('DELETE', '/admin/users/a%2Fb/sessions')).toEqual({
      found: true,
      params: ['a/b'],
      route: end,
      allow: 'GET, DELETE',
      open: false,
    });
    expect(routes.match('GET', '/admin/usage')).toMatchObject({ route: usage, allow: 'GET' });
  });

  it('names the methods of a path it knows with another method', () => {
    expect(routes.match('PUT', '/admin/users/ada/sessions')).toEqual({
      found: true,
      params: ['ada'],
      route: undefined,
      allow: 'GET, DELETE',
      open: false,
    });
  });

  it('does not find an unknown path or a segment that does not decode', () => {
    expect(routes.match('GET', '/admin/users/ada')).toEqual({ found: false });
    expect(routes.match('GET', '/admin/users/%E0%A4%A/sessions')).toEqual({ found: false });
  });

  it('tells whether the pattern is open, whatever the method asked', () => {
    const open = new AdminRoutes();
    const page = { ...route('GET', /^\/admin\/$/), open: true };
    open.add(page, route('GET', /^\/admin\/keys$/));
    expect(open.match('POST', '/admin/')).toEqual({
      found: true,
      params: [],
      route: undefined,
      allow: 'GET',
      open: true,
    });
    expect(open.match('GET', '/admin/keys')).toMatchObject({ found: true, open: false });
  });
});
