import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { startFakeGather, type FakeGather } from '../fakes/fake-gather';
import { configDirWith } from '../support/config-dir';
import { send, UUID, type Envelope, type RawRequest, type RawResponse } from '../support/http';
import { signIn, writeUsersFile } from '../support/session';
import { SPA_HEADERS } from '../support/spa';
import { startTestApp, TEST_ORIGIN, type TestApp } from '../support/start-app';

/**
 * The proxied path answers its errors outside Nest (docs/architecture.md). For every failure
 * both sides can meet, the browser must not be able to tell them apart: same status, code,
 * message, envelope shape and the headers that matter. Failures only the proxy meets keep the
 * same envelope contract.
 */
interface Shape {
  status: number;
  code: string;
  message: string;
  detailKeys: string[];
  metaKeys: string[];
  contentType: string | undefined;
  cacheControl: string | undefined;
  idMatchesBody: boolean;
  idIsUuid: boolean;
  retryAfterMatchesDetails: boolean;
  rateLimitHeaders: string[];
}

function shapeOf(res: RawResponse): Shape {
  const body = res.json<Envelope>();
  expect(Object.keys(body).sort()).toEqual(['error', 'meta']);
  const retryAfter = res.headers['retry-after'];
  return {
    status: res.status,
    code: body.error.code,
    message: body.error.message,
    detailKeys: Object.keys(body.error.details ?? {}).sort(),
    metaKeys: Object.keys(body.meta).sort(),
    contentType: res.headers['content-type'],
    cacheControl: res.headers['cache-control'],
    idMatchesBody: res.headers['x-request-id'] === body.meta.requestId,
    idIsUuid: UUID.test(body.meta.requestId),
    retryAfterMatchesDetails:
      retryAfter === undefined
        ? body.error.details?.retryAfterSeconds === undefined
        : String(body.error.details?.retryAfterSeconds) === retryAfter,
    rateLimitHeaders: Object.keys(res.headers)
      .filter((h) => h.startsWith('ratelimit'))
      .sort(),
  };
}

/** What every error answer carries, whichever side wrote it. */
function expectEnvelopeContract(s: Shape, code: string, status: number): void {
  expect(s).toMatchObject({
    status,
    code,
    metaKeys: ['requestId', 'timestamp'],
    contentType: 'application/json; charset=utf-8',
    cacheControl: 'no-store',
    idMatchesBody: true,
    idIsUuid: true,
  });
}

describe('the error envelope, proxied path against Nest routes', () => {
  const ada = { username: 'ada', password: 'correct horse battery', name: 'Ada', email: 'a@x.io' };
  const bob = { username: 'bob', password: 'another horse', name: 'Bob', email: 'b@x.io' };
  let fake: FakeGather;
  let usersFile: string;
  let t: TestApp;
  let cookie: string;
  /** A second user for the failures after the rate limit, which Ada's count would answer first. */
  let bobCookie: string;
  let configDir: string;

  const json = { 'content-type': 'application/json' };
  const req = (r: RawRequest): Promise<RawResponse> => send(t.url, r);

  beforeAll(async () => {
    fake = await startFakeGather();
    usersFile = await writeUsersFile([ada, bob]);
    configDir = await configDirWith(
      'proxy:\n  allow:\n    - { method: GET, path: /** }\n    - { method: POST, path: /** }\n',
    );
    t = await startTestApp(
      {
        GATHER_BASE_URL: fake.baseUrl,
        AUTH_LOCAL_USERS_FILE: usersFile,
        PROXY_MAX_BODY_BYTES: '1024',
        GATHER_TIMEOUT_MS: '300',
        RATE_LIMIT_USER_LIMIT: '4',
        RATE_LIMIT_LOGIN_LIMIT: '5',
      },
      configDir,
    );
    cookie = await signIn(t, ada.username, ada.password);
    bobCookie = await signIn(t, bob.username, bob.password);
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
    await rm(dirname(usersFile), { recursive: true, force: true });
    await rm(configDir, { recursive: true, force: true });
  });

  it.each<[string, () => RawRequest, () => RawRequest]>([
    [
      'FORBIDDEN_ORIGIN',
      () => ({
        path: '/api/gather/q',
        headers: { ...SPA_HEADERS, cookie, origin: 'https://evil.example' },
      }),
      () => ({
        method: 'POST',
        path: '/auth/logout',
        headers: { ...SPA_HEADERS, cookie, origin: 'https://evil.example' },
      }),
    ],
    [
      'CSRF_REQUIRED',
      () => ({ path: '/api/gather/q', headers: { origin: TEST_ORIGIN, cookie } }),
      () => ({ method: 'POST', path: '/auth/logout', headers: { origin: TEST_ORIGIN, cookie } }),
    ],
    [
      'UNAUTHORIZED',
      () => ({ path: '/api/gather/q', headers: SPA_HEADERS }),
      () => ({ path: '/auth/me', headers: SPA_HEADERS }),
    ],
    [
      'PAYLOAD_TOO_LARGE',
      () => ({
        method: 'POST',
        path: '/api/gather/q',
        headers: { ...SPA_HEADERS, ...json, cookie },
        body: 'x'.repeat(2048),
      }),
      () => ({
        method: 'POST',
        path: '/auth/login',
        headers: { ...SPA_HEADERS, ...json },
        body: JSON.stringify({ username: 'ada', password: 'x'.repeat(20_000) }),
      }),
    ],
  ])('%s looks the same from both sides', async (code, proxied, nest) => {
    const a = shapeOf(await req(proxied()));
    const b = shapeOf(await req(nest()));
    expect(a.code).toBe(code);
    expect(a).toEqual(b);
    expect(a.idIsUuid && a.idMatchesBody).toBe(true);
  });

  it('BAD_REQUEST has the same envelope (each says what was malformed)', async () => {
    const a = shapeOf(
      await req({ path: '/api/gather/a%2fb', headers: { ...SPA_HEADERS, cookie } }),
    );
    const b = shapeOf(
      await req({
        method: 'POST',
        path: '/auth/login',
        headers: { ...SPA_HEADERS, ...json },
        body: '{',
      }),
    );
    expect(a.code).toBe('BAD_REQUEST');
    // The login limit counts the address before it reads the body; the path check comes first.
    const same = (s: Shape): Shape => ({ ...s, message: '', rateLimitHeaders: [] });
    expect(same(a)).toEqual(same(b));
  });

  it('RATE_LIMITED looks the same from both sides, RateLimit fields and Retry-After included', async () => {
    const proxied = (): Promise<RawResponse> =>
      req({ path: '/api/gather/q', headers: { ...SPA_HEADERS, cookie } });
    const login = (): Promise<RawResponse> =>
      req({
        method: 'POST',
        path: '/auth/login',
        headers: { ...SPA_HEADERS, ...json },
        body: JSON.stringify({ username: 'nobody', password: 'wrong' }),
      });
    let a: RawResponse = await proxied();
    while (a.status !== 429) a = await proxied();
    let b: RawResponse = await login();
    while (b.status !== 429) b = await login();
    const [sa, sb] = [shapeOf(a), shapeOf(b)];
    expect(sa.code).toBe('RATE_LIMITED');
    expect(sa).toEqual(sb);
    expect(sa.rateLimitHeaders).toEqual(['ratelimit', 'ratelimit-policy']);
    expect(sa.retryAfterMatchesDetails).toBe(true);
  });

  it.each<[string, number, () => RawRequest]>([
    ['METHOD_NOT_ALLOWED', 405, () => ({ method: 'TRACE', path: '/api/gather/q' })],
    ['EXPECTATION_FAILED', 417, () => ({ path: '/api/gather/q', headers: { expect: 'magic' } })],
  ])('%s, met before anything else, keeps the envelope contract', async (code, status, r) => {
    expectEnvelopeContract(shapeOf(await req(r())), code, status);
  });

  it.each<[string, number, (fake: FakeGather) => RawRequest]>([
    ['ROUTE_NOT_ALLOWED', 403, () => ({ method: 'DELETE', path: '/api/gather/q' })],
    [
      'GATEWAY_TIMEOUT',
      504,
      (f) => {
        f.handle = () => undefined;
        return { path: '/api/gather/slow' };
      },
    ],
    [
      'BAD_GATEWAY',
      502,
      (f) => {
        f.handle = (_r, res) => res.socket?.destroy();
        return { method: 'POST', path: '/api/gather/q', body: '{}' };
      },
    ],
    [
      'UPSTREAM_UNAUTHORIZED',
      502,
      (f) => {
        f.handle = (_r, res) => {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end('{"error":{"code":"UNAUTHORIZED","message":"Invalid API key"},"meta":{}}');
        };
        return { path: '/api/gather/q' };
      },
    ],
  ])('%s, met only on the proxied path, keeps the envelope contract', async (code, status, r) => {
    fake.reset();
    const request = r(fake);
    const res = await req({
      ...request,
      headers: { ...SPA_HEADERS, cookie: bobCookie, ...request.headers },
    });
    expectEnvelopeContract(shapeOf(res), code, status);
  });
});
