import { RequestMethod } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import {
  IDP_CLIENT_ID,
  IDP_CLIENT_SECRET,
  startFakeIdp,
  type FakeIdp,
} from '../fakes/oidc-provider';
import { declaredRoutes, type DeclaredRoute } from '../../src/http/declared-routes';
import { isPublic, skipsOriginCheck } from '../../src/http/route-declarations';
import { expectBffError } from '../support/http';
import { writeUsersFile } from '../support/session';
import { startTestApp, TEST_ORIGIN, type TestApp } from '../support/start-app';

interface RouteAccess {
  /** Refused without a session; else public by declaration. */
  session: boolean;
  /** Origin and X-CSRF checked; else a safe method, or declared server to server. */
  originCheck: boolean;
  /** Registered only with this sign-in method on. */
  feature?: 'local' | 'oidc';
}

/**
 * Every route Nest serves with every feature on, and what it asks of a caller. A route added
 * without a line here fails the first test below, so whoever adds one decides both.
 */
const ROUTES: Readonly<Record<string, RouteAccess>> = {
  'GET /healthz': { session: false, originCheck: false },
  'GET /readyz': { session: false, originCheck: false },
  'POST /auth/login': { session: false, originCheck: true, feature: 'local' },
  'GET /auth/login': { session: false, originCheck: false, feature: 'oidc' },
  'GET /auth/callback': { session: false, originCheck: false, feature: 'oidc' },
  'POST /auth/backchannel-logout': { session: false, originCheck: false, feature: 'oidc' },
  'POST /auth/logout': { session: false, originCheck: true },
  'GET /auth/me': { session: true, originCheck: false },
  'GET /auth/sessions': { session: true, originCheck: false },
  'DELETE /auth/sessions/:id': { session: true, originCheck: true },
  'GET /auth/usage': { session: true, originCheck: false },
};

const ADA = { username: 'ada', password: 'ada password', name: 'Ada', email: 'ada@example.test' };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const nameOf = (route: { method: RequestMethod; path: string }): string =>
  `${RequestMethod[route.method]} ${route.path}`;

/** A request path for a route path: each `:param` filled in. */
const requestPath = (path: string): string => path.replace(/:\w+/g, 'x');

/**
 * The routes in Express's router, as `METHOD /path`. Nest mounts a middleware bound to no
 * method as one route answering every method; those are not a controller's and are left out.
 */
function expressRoutes(t: TestApp): Set<string> {
  const routes = new Set<string>();
  for (const { route } of t.app.getHttpAdapter().getInstance().router.stack) {
    // A layer of `route.all()` has no method.
    const methods = new Set(route?.stack.map((layer) => layer.method ?? 'all'));
    const [method] = methods;
    if (route === undefined || methods.size !== 1 || method === undefined) continue;
    routes.add(`${method.toUpperCase()} ${route.path}`);
  }
  return routes;
}

describe('every route Nest serves, with every feature on', () => {
  let idp: FakeIdp;
  let t: TestApp;
  let routes: DeclaredRoute[];
  let reflector: Reflector;

  beforeAll(async () => {
    idp = await startFakeIdp({
      redirectUri: `${TEST_ORIGIN}/auth/callback`,
      postLogoutRedirectUri: `${TEST_ORIGIN}/`,
    });
    t = await startTestApp({
      AUTH_LOCAL_USERS_FILE: await writeUsersFile([ADA]),
      OIDC_ISSUER_URL: idp.issuer,
      OIDC_CLIENT_ID: IDP_CLIENT_ID,
      OIDC_CLIENT_SECRET: IDP_CLIENT_SECRET,
      ADMIN_TOKEN: 'admin-token-0123456789-abcdefghijklmnop',
    });
    reflector = t.app.get(Reflector);
    routes = declaredRoutes(t.app.get(DiscoveryService), t.app.get(MetadataScanner), reflector);
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  it('are exactly the routes listed here, as Express routes them', () => {
    const declared = routes.map(nameOf).sort();
    expect(declared).toEqual(Object.keys(ROUTES).sort());
    expect([...expressRoutes(t)].sort()).toEqual(declared);
  });

  it('are public exactly when declared @Public(), and skip the origin check only when declared', () => {
    for (const route of routes) {
      const expected = ROUTES[nameOf(route)];
      const targets = [route.handler, route.controller];
      expect([nameOf(route), !isPublic(reflector, targets)]).toEqual([
        nameOf(route),
        expected?.session,
      ]);
      const checked = !SAFE_METHODS.has(RequestMethod[route.method]);
      expect([nameOf(route), checked && !skipsOriginCheck(reflector, targets)]).toEqual([
        nameOf(route),
        expected?.originCheck,
      ]);
    }
  });

  const call = (route: string, headers: Record<string, string>): Promise<Response> => {
    const [method, path] = route.split(' ') as [string, string];
    return fetch(`${t.url}${requestPath(path)}`, { method, headers, redirect: 'manual' });
  };
  const SAME_ORIGIN = { origin: TEST_ORIGIN, 'x-csrf': '1' };

  describe.each(Object.keys(ROUTES).filter((route) => ROUTES[route]?.session))('%s', (route) => {
    it('refuses a request without a session: 401 UNAUTHORIZED', async () => {
      await expectBffError(await call(route, SAME_ORIGIN), 401, 'UNAUTHORIZED');
    });
  });

  describe.each(Object.keys(ROUTES).filter((route) => ROUTES[route]?.originCheck))(
    '%s',
    (route) => {
      it('refuses a request without X-CSRF: 403 CSRF_REQUIRED', async () => {
        await expectBffError(await call(route, { origin: TEST_ORIGIN }), 403, 'CSRF_REQUIRED');
      });

      it('refuses a foreign Origin: 403 FORBIDDEN_ORIGIN', async () => {
        const res = await call(route, { origin: 'https://evil.example', 'x-csrf': '1' });
        await expectBffError(res, 403, 'FORBIDDEN_ORIGIN');
      });
    },
  );

  it('lets the provider call back-channel logout without Origin or X-CSRF: the token decides', async () => {
    const res = await call('POST /auth/backchannel-logout', {
      origin: 'https://idp.example',
      'content-type': 'application/x-www-form-urlencoded',
    });
    await expectBffError(res, 400, 'BAD_REQUEST');
  });
});

describe.each([
  { features: 'no sign-in method', local: false },
  { features: 'local sign-in only', local: true },
])('with $features', ({ local }) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(local ? { AUTH_LOCAL_USERS_FILE: await writeUsersFile([ADA]) } : {});
  });
  afterAll(() => t?.close());

  it('serves no route of a sign-in method that is off: its controllers are not registered', () => {
    const expected = Object.entries(ROUTES)
      .filter(([, { feature }]) => feature === undefined || (feature === 'local' && local))
      .map(([route]) => route);
    expect([...expressRoutes(t)].sort()).toEqual(expected.sort());
  });
});
