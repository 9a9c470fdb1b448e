import { randomUUID } from 'node:crypto';
import { ConfigError } from '../../src/config/load-config';
import { startFakeGather, type FakeGather } from '../fakes/fake-gather';
import { configDirWith } from '../support/config-dir';
import { send, type RawRequest, type RawResponse } from '../support/http';
import { signIn, writeUsersFile } from '../support/session';
import { startTestApp, TEST_KEY, TEST_ORIGIN, type TestApp } from '../support/start-app';

/**
 * Headers both ways, by class rather than by name (issue #23, defects 3 and 7): of the browser's
 * headers only an allow-list reaches Gather, and every answer from Gather is made private to its
 * user and loses what would set state for the whole origin (docs/contract.md, "Headers to
 * Gather", "Headers to the browser").
 */
describe('ANY /api/gather/* — headers by class', () => {
  let fake: FakeGather;
  let t: TestApp;
  let cookie: string;
  const seen: string[] = [];

  const call = async (req: RawRequest): Promise<RawResponse> => {
    const res = await send(t.url, {
      ...req,
      headers: { origin: TEST_ORIGIN, 'x-csrf': '1', cookie, ...req.headers },
    });
    seen.push(JSON.stringify(res.headers), res.text);
    return res;
  };

  beforeAll(async () => {
    fake = await startFakeGather();
    const usersFile = await writeUsersFile([
      { username: 'ada', password: 'correct horse battery', name: 'Ada', email: 'a@example.com' },
    ]);
    const configDir = await configDirWith(
      [
        'proxy:',
        '  allow:',
        '    - { method: GET, path: /questions/** }',
        '  forwardHeaders: [X-Tenant-Hint]',
      ].join('\n'),
    );
    t = await startTestApp(
      { GATHER_BASE_URL: fake.baseUrl, AUTH_LOCAL_USERS_FILE: usersFile },
      configDir,
    );
    cookie = await signIn(t, 'ada', 'correct horse battery');
  });
  beforeEach(() => fake.reset());
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  describe('to Gather: an allow-list (defect 3)', () => {
    /** Every browser header docs/contract.md lets through, as a browser may send them. */
    const allowed = {
      Accept: 'application/json',
      'Accept-Encoding': 'gzip',
      'Accept-Language': 'en',
      'Content-Type': 'application/json',
      'Content-Encoding': 'identity',
      'Cache-Control': 'no-cache',
      Pragma: 'no-cache',
      'If-Match': '"a"',
      'If-None-Match': '"b"',
      'If-Modified-Since': 'Tue, 01 Dec 2026 10:00:00 GMT',
      'If-Unmodified-Since': 'Tue, 01 Dec 2026 10:00:00 GMT',
      'If-Range': '"c"',
      Range: 'bytes=0-99',
      Prefer: 'return=minimal',
      'Idempotency-Key': 'k-1',
      'User-Agent': 'Browser/1.0',
    };
    /** The names the attack of issue #23 used, and one nobody has thought of yet. */
    const otherNames = {
      'X-Original-Method': 'DELETE',
      'X-Original-URI': '/admin',
      'X-Forwarded-Uri': '/admin',
      'X-Envoy-Original-Path': '/admin',
      'X-Rewrite-URI': '/admin',
      'X-Forwarded-Path': '/admin',
      'X-Host': 'evil.example',
      'X-Original-Host': 'evil.example',
      'X-Forwarded-Scheme': 'https',
      'X-Forwarded-SSL': 'on',
      'CF-Connecting-IP': '6.6.6.6',
      'X-Cluster-Client-IP': '6.6.6.6',
      'Fastly-Client-IP': '6.6.6.6',
      'X-Forwarded-User': 'admin',
      'X-Auth-Request-User': 'admin',
      'X-Remote-User': 'admin',
      Via: '1.1 evil.example',
      [`X-${randomUUID()}`]: 'invented',
    };
    /** What the BFF itself sends on a GET without a body (Node's client adds `connection`). */
    const setByBff = [
      'host',
      'connection',
      'x-api-key',
      'x-request-id',
      'x-forwarded-for',
      'x-forwarded-proto',
      'x-forwarded-host',
      'traceparent',
    ];

    it('forwards exactly the allowed browser headers, whatever other names arrive', async () => {
      const res = await call({
        path: '/api/gather/questions',
        headers: { ...allowed, ...otherNames },
      });
      expect(res.status).toBe(200);
      expect(fake.requests).toHaveLength(1);
      const got = fake.requests[0]!;
      expect(got.method).toBe('GET');
      expect(got.url).toBe('/qsi/gather/questions');
      expect(Object.keys(got.headers).sort()).toEqual(
        [...Object.keys(allowed).map((n) => n.toLowerCase()), ...setByBff].sort(),
      );
      for (const [name, value] of Object.entries(allowed)) {
        expect(got.headers[name.toLowerCase()]).toBe(value);
      }
      expect(got.headers['x-forwarded-for']).toBe('127.0.0.1');
      expect(got.headers['x-forwarded-host']).toBe('localhost:3000');
    });

    it('forwards a name proxy.forwardHeaders adds, unless the Connection header lists it', async () => {
      await call({ path: '/api/gather/questions', headers: { 'X-Tenant-Hint': 'acme' } });
      expect(fake.requests[0]!.headers['x-tenant-hint']).toBe('acme');
      fake.reset();
      await call({
        path: '/api/gather/questions',
        headers: { 'X-Tenant-Hint': 'acme', Connection: 'X-Tenant-Hint' },
      });
      expect(fake.requests[0]!.headers['x-tenant-hint']).toBeUndefined();
    });

    it('refuses to start when proxy.forwardHeaders names a header the browser must not choose', async () => {
      const configDir = await configDirWith(
        'proxy:\n  forwardHeaders: [X-Tenant-Hint, Via, X-Forwarded-User, Cookie, CF-Connecting-IP]',
      );
      const refusal = await startTestApp({ GATHER_BASE_URL: fake.baseUrl }, configDir).then(
        async (app) => {
          await app.close();
          return 'started';
        },
        (err: unknown) => err,
      );
      expect(refusal).toBeInstanceOf(ConfigError);
      expect(refusal).toMatchObject({
        problems: [
          'proxy.forwardHeaders.1: "Via" is never forwarded to Gather (it would let the browser choose routing, method or identity upstream)',
          'proxy.forwardHeaders.2: "X-Forwarded-User" is never forwarded to Gather (x-forwarded-*: it would let the browser choose routing, method or identity upstream)',
          'proxy.forwardHeaders.3: "Cookie" is never forwarded to Gather (a credential)',
          'proxy.forwardHeaders.4: "CF-Connecting-IP" is never forwarded to Gather (it would let the browser choose routing, method or identity upstream)',
        ],
      });
    });
  });

  it('never shows the key in a response or a log line', () => {
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.join('\n')).not.toContain(TEST_KEY);
    expect(t.logs()).not.toContain(TEST_KEY);
  });
});
