import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import type { FakeGather } from '../fakes/fake-gather';
import { configDirWith } from '../support/config-dir';
import {
  rawExchange,
  type Envelope,
  type RawRequest,
  type RawResponse,
  UUID,
} from '../support/http';
import { startProxyHarness, type ProxyHarness } from '../support/proxy-harness';
import { TEST_KEY, TEST_ORIGIN, type TestApp } from '../support/start-app';

/**
 * Attacks that got through once (issue #13): each case here failed before its fix. What the
 * BFF must do instead is in docs/contract.md (Request ids, Headers to Gather, Headers to the
 * browser, Error codes).
 */
describe('ANY /api/gather/* under attack', () => {
  let h: ProxyHarness;
  let fake: FakeGather;
  let t: TestApp;
  let cookie: string;
  const call = (req: RawRequest): Promise<RawResponse> => h.call(req);

  beforeAll(async () => {
    const configDir = await configDirWith(
      [
        'proxy:',
        '  allow:',
        '    - { method: GET, path: /questions/** }',
        '    - { method: POST, path: /questions/** }',
        '    - { method: PUT, path: /uploads/** }',
        'rateLimit:',
        '  routes:',
        '    - { method: POST, path: /questions/**, limit: 2, windowSeconds: 60 }',
      ].join('\n'),
    );
    h = await startProxyHarness({
      env: { PROXY_MAX_BODY_BYTES: '1024', PROXY_MAX_BUFFERED_BYTES: '3072' },
      configDir,
    });
    ({ fake, t, cookie } = h);
  });
  beforeEach(() => fake.reset());
  afterAll(() => h.close());

  describe('an error from Gather with a requestId that cannot be a header (defect 1)', () => {
    it.each([
      ['CRLF injection', 'abc\r\nSet-Cookie: pwn=1'],
      ['a character above U+00FF', '\u4e2d'],
      ['a space', 'a b'],
      ['100 KB', 'x'.repeat(100_000)],
      ['an empty string', ''],
    ])('keeps the process up and answers with its own id for %s', async (_what, requestId) => {
      for (const status of [404, 401]) {
        const body = JSON.stringify({
          error: { code: 'NOPE', message: 'no' },
          meta: { requestId, timestamp: '2026-11-30T00:00:00.000Z' },
        });
        fake.reset();
        fake.handle = (_req, res) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(body);
        };
        const res = await call({ path: '/api/gather/questions/1' });
        const sent = fake.requests[0]!.headers['x-request-id'];
        expect(res.headers['x-request-id']).toBe(sent);
        expect(res.headers['set-cookie']).toBeUndefined();
        if (status === 404) {
          expect(res.status).toBe(404);
          expect(res.text).toBe(body);
        } else {
          expect(res.status).toBe(502);
          const env = res.json<Envelope>();
          expect(env.error.code).toBe('UPSTREAM_UNAUTHORIZED');
          expect(env.meta).toEqual({ requestId: sent, timestamp: '2026-11-30T00:00:00.000Z' });
        }
      }
      // Still serving.
      fake.reset();
      expect((await call({ path: '/api/gather/questions' })).status).toBe(200);
    });

    it("uses Gather's x-request-id header only when it is 1-128 printable ASCII characters", async () => {
      fake.handle = (_req, res) => {
        res.writeHead(200, { 'x-request-id': 'y'.repeat(129) });
        res.end('{}');
      };
      const long = await call({ path: '/api/gather/questions' });
      expect(long.headers['x-request-id']).toBe(fake.requests[0]!.headers['x-request-id']);
      expect(long.headers['x-request-id']).toMatch(UUID);
      fake.reset();
      fake.handle = (_req, res) => {
        res.writeHead(200, { 'x-request-id': 'g'.repeat(128) });
        res.end('{}');
      };
      expect((await call({ path: '/api/gather/questions' })).headers['x-request-id']).toBe(
        'g'.repeat(128),
      );
    });
  });

  describe('path spellings (defects 2 and 3)', () => {
    it.each([
      '/api/gather/questions/..;/..;/admin/keys',
      '/api/gather/questions/.;/x',
      '/api/gather/questions;jsessionid=1/x',
      '/api/gather/questions/x;y',
      '/api/gather/question%73/d',
      '/api/gather/%71uestions/e',
      '/api/gather/questions/%2E%2E/x',
      '/api/gather/questions/a%2Eb',
      '/api/gather/questions/%7E',
      '/api/gather/questions/%5F',
      '/api/gather/questions/%2D',
      '/api/gather/questions/%30',
      '/api/gather/questions#frag',
    ])('refuses %s with 400 BAD_REQUEST and forwards nothing', async (path) => {
      const res = await call({ method: 'POST', path, body: '{}' });
      expect(res.status).toBe(400);
      const env = res.json<Envelope>();
      expect(env.error.code).toBe('BAD_REQUEST');
      expect(res.headers['x-request-id']).toBe(env.meta.requestId);
      expect(fake.requests).toHaveLength(0);
    });

    it('keeps encoded reserved characters that are data, and the per-route limit holds', async () => {
      const ok = await call({
        method: 'POST',
        path: '/api/gather/questions/a%20b%3Bc',
        body: '{}',
      });
      expect(ok.status).toBe(200);
      expect(fake.requests[0]!.url).toBe('/qsi/gather/questions/a%20b%3Bc');
      const again = await call({ method: 'POST', path: '/api/gather/questions/d', body: '{}' });
      expect(again.status).toBe(200);
      const limited = await call({ method: 'POST', path: '/api/gather/questions/e', body: '{}' });
      expect(limited.status).toBe(429);
      expect(limited.json<Envelope>().error.code).toBe('RATE_LIMITED');
      expect(fake.requests).toHaveLength(2);
    });
  });

  describe('headers the browser must not choose (defect 4)', () => {
    const refused = {
      'x-http-method-override': 'DELETE',
      'x-http-method': 'DELETE',
      'x-method-override': 'DELETE',
      'x-original-url': '/admin',
      'x-rewrite-url': '/admin',
      'x-forwarded-prefix': '/evil',
      'x-forwarded-server': 'evil.example',
      'x-forwarded-port': '8443',
      'x-client-ip': '6.6.6.6',
      'true-client-ip': '6.6.6.6',
      'x-real-ip': '6.6.6.6',
      forwarded: 'for=6.6.6.6;host=evil.example',
      baggage: 'userId=admin',
      tracestate: 'vendor=x',
    };

    it('forwards the request without any of them', async () => {
      const res = await call({ path: '/api/gather/questions', headers: refused });
      expect(res.status).toBe(200);
      const got = fake.requests[0]!;
      expect(got.method).toBe('GET');
      for (const name of Object.keys(refused)) expect(got.headers[name]).toBeUndefined();
    });
  });

  describe("Gather's response headers (defect 5)", () => {
    const hostile = {
      'content-type': 'text/html',
      'content-security-policy': 'default-src *',
      'strict-transport-security': 'max-age=0',
      'x-frame-options': 'ALLOWALL',
      'x-content-type-options': 'sniff',
      'referrer-policy': 'unsafe-url',
      'cross-origin-resource-policy': 'cross-origin',
      'cross-origin-opener-policy': 'unsafe-none',
      'access-control-allow-origin': '*',
      'access-control-allow-credentials': 'true',
      'clear-site-data': '"cookies"',
      'alt-svc': 'h2="evil.example:443"',
      server: 'gather-internal/1.2',
      'x-powered-by': 'PHP',
    };

    it.each([200, 404])('lets the BFF own the security headers on a %i', async (status) => {
      fake.handle = (_req, res) => {
        res.writeHead(status, hostile);
        res.end('<script>alert(document.cookie)</script>');
      };
      const res = await call({ path: '/api/gather/questions' });
      expect(res.status).toBe(status);
      expect(res.headers['content-security-policy']).toBe(
        "default-src 'none'; frame-ancestors 'none'; sandbox",
      );
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['strict-transport-security']).not.toBe('max-age=0');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
      expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
      for (const name of [
        'access-control-allow-origin',
        'access-control-allow-credentials',
        'clear-site-data',
        'alt-svc',
        'server',
        'x-powered-by',
      ]) {
        expect(res.headers[name]).toBeUndefined();
      }
    });

    it.each([
      [
        'an absolute URL inside the base',
        (base: string) => `${base}/questions/2?x=1`,
        '/api/gather/questions/2?x=1',
      ],
      [
        'a path-absolute URL inside the base',
        () => '/qsi/gather/questions/3',
        '/api/gather/questions/3',
      ],
      ['a relative URL', () => 'answers/4', '/api/gather/questions/answers/4'],
      ['a URL outside the base path', () => '/qsi/other/x', undefined],
      ['another origin', () => 'https://evil.example/steal', undefined],
      ['a scheme-relative URL', () => '//evil.example/qsi/gather/x', undefined],
    ])('rewrites or drops Location for %s', async (_what, location, expected) => {
      fake.handle = (_req, res) => {
        res.writeHead(303, { location: location(fake.baseUrl) });
        res.end();
      };
      const res = await call({ path: '/api/gather/questions/1' });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(expected);
    });
  });

  describe('uploads that stall (defect 7)', () => {
    const head = (extra: string): string =>
      `PUT /api/gather/uploads HTTP/1.1\r\nHost: x\r\nOrigin: ${TEST_ORIGIN}\r\nX-CSRF: 1\r\nCookie: ${cookie}\r\n${extra}`;

    /** Opens a connection, writes `bytes` and collects the answer until the server closes it. */
    const open = (bytes: string): { socket: Socket; answer: Promise<string>; openedAt: number } => {
      const url = new URL(t.url);
      const socket = createConnection(Number(url.port), url.hostname);
      socket.on('error', () => undefined);
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.write(bytes);
      const answer = once(socket, 'close').then(() => Buffer.concat(chunks).toString('utf8'));
      return { socket, answer, openedAt: Date.now() };
    };

    it("refuses a user's uploads past their share of the buffer budget with 429, and forwards nothing", async () => {
      // With a 1024-byte body limit and a 3072-byte budget, a user's share is one whole body.
      const stalled = open(`${head('Content-Length: 1000\r\n')}\r\nx`);
      await new Promise((r) => setTimeout(r, 300));
      const refused = await call({
        method: 'PUT',
        path: '/api/gather/uploads',
        body: 'z'.repeat(1000),
      });
      expect(refused.status).toBe(429);
      expect(refused.json<Envelope>().error.code).toBe('RATE_LIMITED');
      expect(refused.headers['retry-after']).toBe('10');
      stalled.socket.destroy();
      await stalled.answer;
      // Released once that connection is gone.
      const ok = await call({ method: 'PUT', path: '/api/gather/uploads', body: 'z'.repeat(1000) });
      expect(ok.status).toBe(200);
      expect(fake.requests.map((r) => r.body.length)).toEqual([1000]);
    });

    it('answers 408 REQUEST_TIMEOUT after 10 s of silence in a body or in the headers', async () => {
      const body = open(`${head('Content-Length: 100\r\n')}\r\n${'x'.repeat(10)}`);
      const headers = open(head(''));
      const [bodyAnswer, headersAnswer] = await Promise.all([body.answer, headers.answer]);
      for (const [answer, openedAt] of [
        [bodyAnswer, body.openedAt],
        [headersAnswer, headers.openedAt],
      ] as const) {
        const waited = Date.now() - openedAt;
        expect(waited).toBeGreaterThanOrEqual(10_000);
        expect(answer).toMatch(/^HTTP\/1\.1 408 /);
        expect(answer).toContain('"code":"REQUEST_TIMEOUT"');
      }
      expect(fake.requests).toHaveLength(0);
    }, 30_000);
  });

  it('answers an Expect other than 100-continue with 417 EXPECTATION_FAILED, forwarding nothing', async () => {
    const res = await call({ path: '/api/gather/questions', headers: { expect: 'x-magic' } });
    expect(res.status).toBe(417);
    const env = res.json<Envelope>();
    expect(env.error.code).toBe('EXPECTATION_FAILED');
    expect(res.headers['x-request-id']).toBe(env.meta.requestId);
    expect(res.headers['content-security-policy']).toBe(
      "default-src 'none'; frame-ancestors 'none'; sandbox",
    );
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(fake.requests).toHaveLength(0);
  });

  it.each([
    ['on HTTP/1.0', 'HTTP/1.0', 'x-magic'],
    ['beside 100-continue', 'HTTP/1.1', '100-continue, x-magic'],
  ])('answers 417 to an unmet Expect %s too, forwarding nothing', async (_case, version, value) => {
    const answer = await rawExchange(
      t.url,
      `GET /api/gather/questions ${version}\r\nHost: 127.0.0.1\r\nExpect: ${value}\r\n` +
        `Origin: ${TEST_ORIGIN}\r\nX-CSRF: 1\r\nCookie: ${cookie}\r\n\r\n`,
    );
    // Node may first send 100 Continue for the second; the final answer is the envelope.
    expect(answer).toMatch(/(^|\r\n\r\n)HTTP\/1\.1 417 /);
    expect(answer).toContain('"code":"EXPECTATION_FAILED"');
    expect(answer).toMatch(/^x-content-type-options: nosniff$/im);
    expect(fake.requests).toHaveLength(0);
  });

  it("answers what Node's parser refuses with the envelope and the security headers", async () => {
    const answer = await rawExchange(t.url, 'GET /api/gather/a b c\r\nHost: x\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"code":"BAD_REQUEST"');
    expect(answer).toMatch(/^x-content-type-options: nosniff$/im);
    expect(answer).toMatch(
      /^content-security-policy: default-src 'none'; frame-ancestors 'none'; sandbox$/im,
    );
  });

  it('never shows the key in a response or a log line', () => {
    expect(h.seen.length).toBeGreaterThan(20);
    expect(h.seen.join('\n')).not.toContain(TEST_KEY);
    expect(t.logs()).not.toContain(TEST_KEY);
  });
});
