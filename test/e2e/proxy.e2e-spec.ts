import type { Socket } from 'node:net';
import { Agent, request as httpRequest } from 'node:http';
import { startRawServer, gatherError, type FakeGather } from '../fakes/fake-gather';
import {
  get,
  idleSocketOf,
  rawExchange,
  send,
  type Envelope,
  type RawRequest,
  type RawResponse,
  UUID,
} from '../support/http';
import { freePort } from '../../src/http/free-port';
import { ADA, startProxyHarness, type ProxyHarness } from '../support/proxy-harness';
import { signIn } from '../support/session';
import { SPA_HEADERS } from '../support/spa';
import { startTestApp, TEST_KEY, TEST_ORIGIN, type TestApp } from '../support/start-app';
import { until } from '../support/until';

describe('ANY /api/gather/* — the proxy', () => {
  let h: ProxyHarness;
  let fake: FakeGather;
  let t: TestApp;
  let cookie: string;
  let usersFile: string;
  const call = (req: RawRequest): Promise<RawResponse> => h.call(req);

  beforeAll(async () => {
    h = await startProxyHarness({
      env: {
        PROXY_MAX_BODY_BYTES: '1024',
        // Short for the 504 test, yet longer than this test process may stall late in a full run:
        // at 400 ms a stall mid-download once fired the idle timer and cut a 3 MiB answer.
        GATHER_TIMEOUT_MS: '2000',
      },
    });
    ({ fake, t, cookie, usersFile } = h);
  });
  beforeEach(() => fake.reset());
  afterAll(() => h.close());

  describe('forwarding', () => {
    it('forwards path and query unchanged with exactly one server key and the BFF-set headers', async () => {
      const res = await call({
        path: '/api/gather/questions?limit=5&q=a%20b&x=%2F',
        headers: {
          authorization: 'Bearer browser-token',
          'proxy-authorization': 'Basic eDp5',
          'x-api-key': 'qapi_browserSuppliedKey0000',
          'x-forwarded-for': '6.6.6.6',
          'x-forwarded-proto': 'gopher',
          'x-forwarded-host': 'evil.example',
          connection: 'X-Hop-Secret',
          'x-hop-secret': 'drop',
          'x-custom': 'kept',
        },
      });
      expect(res.status).toBe(200);
      expect(fake.requests).toHaveLength(1);
      const got = fake.requests[0]!;
      expect(got.method).toBe('GET');
      expect(got.url).toBe('/qsi/gather/questions?limit=5&q=a%20b&x=%2F');
      const raw = got.rawHeaders.filter((_, i) => i % 2 === 0).map((h) => h.toLowerCase());
      for (const name of [
        'x-api-key',
        'x-request-id',
        'x-forwarded-for',
        'x-forwarded-proto',
        'x-forwarded-host',
        'host',
      ]) {
        expect(raw.filter((h) => h === name)).toHaveLength(1);
      }
      expect(got.headers['x-api-key']).toBe(TEST_KEY);
      expect(got.headers['x-forwarded-for']).toBe('127.0.0.1');
      expect(got.headers['x-forwarded-proto']).toBe('http');
      expect(got.headers['x-forwarded-host']).toBe('localhost:3000');
      expect(got.headers.host).toBe(new URL(fake.baseUrl).host);
      expect(got.headers['x-request-id']).toMatch(UUID);
      for (const name of [
        'cookie',
        'authorization',
        'proxy-authorization',
        'x-csrf',
        'x-hop-secret',
        'origin',
        'x-custom',
      ]) {
        expect(got.headers[name]).toBeUndefined();
      }
    });

    it('forwards /api/gather/ to GATHER_BASE_URL/ with its slash, with or without a query', async () => {
      const expected: [string, string][] = [
        ['/api/gather/', '/qsi/gather/'],
        ['/api/gather/?page=2', '/qsi/gather/?page=2'],
        ['/api/gather/questions/', '/qsi/gather/questions/'],
      ];
      for (const [path, upstream] of expected) {
        fake.reset();
        expect((await call({ path })).status).toBe(200);
        expect(fake.requests.map((r) => r.url)).toEqual([upstream]);
      }
    });

    it("answers with Gather's x-request-id and without its set-cookie, x-api-key or x-powered-by", async () => {
      fake.handle = (_req, res) => {
        res.writeHead(200, {
          'content-type': 'application/json',
          'x-request-id': 'gather-req-1',
          'set-cookie': 'gather_internal=1',
          'x-api-key': TEST_KEY,
          'x-powered-by': 'Express',
          etag: '"v1"',
        });
        res.end('{"data":[]}');
      };
      const res = await call({ path: '/api/gather/questions' });
      expect(res.status).toBe(200);
      expect(res.text).toBe('{"data":[]}');
      expect(res.headers['x-request-id']).toBe('gather-req-1');
      expect(res.headers.etag).toBe('"v1"');
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.headers['x-api-key']).toBeUndefined();
      expect(res.headers['x-powered-by']).toBeUndefined();
    });

    it('echoes the id it sent to Gather when Gather sends none', async () => {
      fake.handle = (_req, res) => res.end('ok');
      const res = await call({ path: '/api/gather/ping' });
      expect(res.status).toBe(200);
      expect(res.headers['x-request-id']).toBe(fake.requests[0]!.headers['x-request-id']);
    });

    it('forwards a JSON body byte for byte with its length (no hang after the body was read)', async () => {
      const body = JSON.stringify({ text: 'Wie heißt du?', n: 1 });
      const res = await call({
        method: 'POST',
        path: '/api/gather/questions',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(res.status).toBe(200);
      const got = fake.requests[0]!;
      expect(got.body.toString('utf8')).toBe(body);
      expect(got.headers['content-length']).toBe(String(Buffer.byteLength(body)));
      expect(got.headers['content-type']).toBe('application/json');
    });

    it.each(['PUT', 'PATCH', 'DELETE', 'HEAD'])('forwards %s', async (method) => {
      const res = await call({ method, path: '/api/gather/questions/1' });
      expect(res.status).toBe(200);
      expect(fake.requests[0]!.method).toBe(method);
    });

    it.each([
      ['with a length', { 'content-length': '31' }],
      ['chunked', {}],
    ])(
      'passes a small answer that arrives whole %s, and reuses the connection to Gather',
      async (_form, framing) => {
        const body = '{"questions":[{"id":"q-1"}],"n":1}'.slice(0, 31);
        fake.handle = (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json', ...framing });
          res.end(body);
        };
        const answers = [];
        for (let i = 0; i < 3; i++) answers.push(await call({ path: '/api/gather/questions' }));
        for (const res of answers) {
          expect(res.status).toBe(200);
          expect(res.text).toBe(body);
          expect(res.headers['content-type']).toBe('application/json');
          expect(res.headers['x-content-type-options']).toBe('nosniff');
        }
        expect(new Set(fake.requests.map((r) => r.remotePort)).size).toBe(1);
      },
    );

    it('answers HEAD with the head alone and 204 without a body', async () => {
      fake.handle = (req, res) => {
        const status = req.method === 'HEAD' ? 200 : 204;
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': '0' });
        res.end();
      };
      const head = await call({ method: 'HEAD', path: '/api/gather/questions' });
      expect(head.status).toBe(200);
      expect(head.body.length).toBe(0);
      const none = await call({ method: 'DELETE', path: '/api/gather/questions/1' });
      expect(none.status).toBe(204);
      expect(none.body.length).toBe(0);
    });

    it("keeps the browser's connection and Gather's after a 204 with nothing after it", async () => {
      let gatherClosed = false;
      fake.handle = (req, res) => {
        if (req.url.endsWith('/first')) {
          res.writeHead(204);
          res.end();
          return;
        }
        // The next answer on the reused connection ends it: were the 204's watch for a stray body
        // still on, this answer's bytes and the close would pass for one.
        res.socket?.once('close', () => (gatherClosed = true));
        res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
        res.end('{"second":true}');
      };
      const agent = new Agent({ keepAlive: true });
      try {
        const headers = { ...SPA_HEADERS, cookie };
        expect((await get(t.url, '/api/gather/first', agent, headers)).status).toBe(204);
        const browser = idleSocketOf(agent);
        let browserClosed = false;
        browser.once('close', () => (browserClosed = true));
        const second = await get(t.url, '/api/gather/second', agent, headers);
        expect([second.status, second.text]).toEqual([200, '{"second":true}']);
        const [first, next] = fake.requests;
        expect(next?.remotePort).toBe(first?.remotePort);
        await until(() => gatherClosed);
        const third = await get(t.url, '/api/gather/third', agent, headers);
        expect(third.status).toBe(200);
        expect(idleSocketOf(agent)).toBe(browser);
        expect(browserClosed).toBe(false);
      } finally {
        agent.destroy();
      }
    });

    it('streams a large success body through intact', async () => {
      const big = Buffer.alloc(3 * 1024 * 1024, 'x');
      fake.handle = (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(big);
      };
      const res = await call({ path: '/api/gather/export' });
      expect(res.status).toBe(200);
      expect(res.body.equals(big)).toBe(true);
    });
  });

  describe("Gather's errors", () => {
    it.each([400, 403, 404, 409, 422, 500, 503])(
      'passes %i through byte for byte with its requestId',
      async (status) => {
        const body = gatherError('SOME_CODE', 'Something', { details: { field: 'x' } });
        fake.handle = (_req, res) => {
          res.writeHead(status, { 'content-type': 'application/json', 'set-cookie': 'x=1' });
          res.end(body);
        };
        const res = await call({ path: '/api/gather/questions' });
        expect(res.status).toBe(status);
        expect(res.text).toBe(body);
        expect(res.headers['x-request-id']).toBe((JSON.parse(body) as Envelope).meta.requestId);
        expect(res.headers['set-cookie']).toBeUndefined();
      },
    );

    it('passes 429 through with Retry-After', async () => {
      const body = gatherError('RATE_LIMITED', 'Slow down');
      fake.handle = (_req, res) => {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '17' });
        res.end(body);
      };
      const res = await call({ path: '/api/gather/questions' });
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('17');
      expect(res.text).toBe(body);
    });

    it("turns Gather's 401 into 502 UPSTREAM_UNAUTHORIZED keeping its requestId and timestamp", async () => {
      const body = gatherError('UNAUTHORIZED', 'Invalid API key');
      const meta = (JSON.parse(body) as Envelope).meta;
      fake.handle = (_req, res) => {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(body);
      };
      const res = await call({ path: '/api/gather/questions' });
      expect(res.status).toBe(502);
      const env = res.json<Envelope>();
      expect(env.error.code).toBe('UPSTREAM_UNAUTHORIZED');
      expect(env.error.details).toEqual({ upstreamStatus: 401, upstreamCode: 'UNAUTHORIZED' });
      expect(env.meta).toEqual(meta);
      expect(res.headers['x-request-id']).toBe(meta.requestId);
      // An environment key cannot change, so there is no retry.
      expect(fake.requests).toHaveLength(1);
    });
  });

  describe('faults', () => {
    it('answers 504 GATEWAY_TIMEOUT when Gather does not answer within GATHER_TIMEOUT_MS', async () => {
      fake.handle = () => undefined;
      const res = await call({ path: '/api/gather/slow' });
      expect(res.status).toBe(504);
      const env = res.json<Envelope>();
      expect(env.error.code).toBe('GATEWAY_TIMEOUT');
      expect(res.headers['x-request-id']).toBe(env.meta.requestId);
    });

    /** A stand-in for Gather that fails in one way; `close` stops it. */
    type Broken = () => Promise<{ baseUrl: string; close(): Promise<void> }>;
    const misbehaving =
      (behave: (s: Socket) => void): Broken =>
      () =>
        startRawServer((s) => s.once('data', () => behave(s)));
    const refusing: Broken = async () => ({
      baseUrl: `http://127.0.0.1:${await freePort()}/qsi/gather`,
      close: () => Promise.resolve(),
    });

    it.each<[string, Broken]>([
      ['resets the connection', misbehaving((s) => s.resetAndDestroy())],
      [
        'answers with something that is not HTTP',
        misbehaving((s) => s.end('SSH-2.0-OpenSSH\r\n\r\n')),
      ],
      ['refuses the connection', refusing],
    ])('answers 502 BAD_GATEWAY when Gather %s', async (_what, broken) => {
      const gather = await broken();
      const other = await startTestApp({
        GATHER_BASE_URL: gather.baseUrl,
        AUTH_LOCAL_USERS_FILE: usersFile,
      });
      try {
        const c = await signIn(other, ADA.username, ADA.password);
        const res = await send(other.url, {
          path: '/api/gather/questions',
          headers: { ...SPA_HEADERS, cookie: c },
        });
        expect(res.status).toBe(502);
        expect(res.json<Envelope>().error.code).toBe('BAD_GATEWAY');
        expect(res.text).not.toContain('127.0.0.1');
      } finally {
        await other.close();
        await gather.close();
      }
    });
  });

  describe('bad input', () => {
    it.each([
      '/api/gather/../auth/me',
      '/api/gather/a/%2e%2e/b',
      '/api/gather/a%2fb',
      '/api/gather/a%5Cb',
      '/api/gather/%252e%252e/x',
      '/api/gather/a%00b',
    ])('refuses %s with 400 BAD_REQUEST and forwards nothing', async (path) => {
      const res = await call({ path });
      expect(res.status).toBe(400);
      const env = res.json<Envelope>();
      expect(env.error.code).toBe('BAD_REQUEST');
      expect(res.headers['x-request-id']).toBe(env.meta.requestId);
      expect(fake.requests).toHaveLength(0);
    });

    it('answers a raw control character in the request line with the 400 envelope', async () => {
      const res = await rawExchange(t.url, 'GET /api/gather/a\x01b HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(res).toMatch(/^HTTP\/1\.1 400 /);
      expect(res).toContain('"code":"BAD_REQUEST"');
    });

    it('checks the path before origin and CSRF (SPEC order)', async () => {
      const res = await send(t.url, {
        path: '/api/gather/a%2fb',
        headers: { origin: 'https://evil.example' },
      });
      expect(res.status).toBe(400);
    });

    it('answers TRACE with 405 METHOD_NOT_ALLOWED', async () => {
      const res = await call({ method: 'TRACE', path: '/api/gather/questions' });
      expect(res.status).toBe(405);
      expect(res.json<Envelope>().error.code).toBe('METHOD_NOT_ALLOWED');
      expect(fake.requests).toHaveLength(0);
    });

    it('answers CONNECT with 405 METHOD_NOT_ALLOWED', async () => {
      const res = await rawExchange(
        t.url,
        'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n',
      );
      expect(res).toMatch(/^HTTP\/1\.1 405 /);
      expect(res).toContain('"code":"METHOD_NOT_ALLOWED"');
    });

    it('refuses a declared body over PROXY_MAX_BODY_BYTES with 413 before reading it', async () => {
      const res = await call({
        method: 'POST',
        path: '/api/gather/questions',
        body: 'x'.repeat(1025),
      });
      expect(res.status).toBe(413);
      expect(res.json<Envelope>().error.code).toBe('PAYLOAD_TOO_LARGE');
      expect(fake.requests).toHaveLength(0);
    });

    it('refuses a chunked body that grows past the limit with 413', async () => {
      const res = await chunkedPost(t.url, '/api/gather/questions', cookie, [
        'x'.repeat(600),
        'y'.repeat(600),
      ]);
      expect(res.status).toBe(413);
      expect(fake.requests).toHaveLength(0);
    });

    it('needs a session (401), the X-CSRF header (403) and an allowed origin (403)', async () => {
      const noSession = await send(t.url, { path: '/api/gather/q', headers: { 'x-csrf': '1' } });
      expect(noSession.status).toBe(401);
      expect(noSession.json<Envelope>().error.code).toBe('UNAUTHORIZED');
      const noCsrf = await send(t.url, { path: '/api/gather/q', headers: { cookie } });
      expect(noCsrf.status).toBe(403);
      expect(noCsrf.json<Envelope>().error.code).toBe('CSRF_REQUIRED');
      const foreign = await send(t.url, {
        path: '/api/gather/q',
        headers: { cookie, 'x-csrf': '1', origin: 'https://evil.example' },
      });
      expect(foreign.status).toBe(403);
      expect(foreign.json<Envelope>().error.code).toBe('FORBIDDEN_ORIGIN');
      expect(fake.requests).toHaveLength(0);
      // The BFF's own answers on the proxied path are sandboxed like Gather's.
      for (const res of [noSession, noCsrf, foreign]) {
        expect(res.headers['content-security-policy']).toBe(
          "default-src 'none'; frame-ancestors 'none'; sandbox",
        );
        expect(res.headers['x-content-type-options']).toBe('nosniff');
      }
    });
  });

  describe('clients that go away', () => {
    /** Writes `bytes` on a fresh connection, waits, then drops it without reading an answer. */
    const abandon = async (bytes: string, waitMs: number): Promise<void> => {
      const { createConnection } = await import('node:net');
      const url = new URL(t.url);
      const socket = createConnection(Number(url.port), url.hostname);
      socket.on('error', () => undefined);
      socket.write(bytes);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      socket.destroy();
    };
    const head = (method: string, path: string, extra = ''): string =>
      `${method} ${path} HTTP/1.1\r\nHost: x\r\nOrigin: ${TEST_ORIGIN}\r\nX-CSRF: 1\r\nCookie: ${cookie}\r\n${extra}`;

    it('survives an upload cut short, a wait for a slow Gather and a download cut short', async () => {
      await abandon(
        `${head('POST', '/api/gather/q', 'Content-Length: 500\r\n')}\r\n${'x'.repeat(10)}`,
        100,
      );
      let answerSlowly: () => void = () => undefined;
      fake.handle = (_req, res) => {
        answerSlowly = () => res.end('late');
      };
      await abandon(`${head('GET', '/api/gather/slow')}\r\n`, 100);
      answerSlowly();
      fake.handle = (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write(Buffer.alloc(1024 * 1024, 'x'));
        setTimeout(() => res.end(Buffer.alloc(1024 * 1024, 'y')), 200);
      };
      await abandon(`${head('GET', '/api/gather/big')}\r\n`, 100);
      fake.reset();
      const res = await call({ path: '/api/gather/after' });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ method: 'GET', url: '/qsi/gather/after' });
    });
  });

  it('never shows the key in a response or a log line', () => {
    expect(h.seen.length).toBeGreaterThan(20);
    expect(h.seen.join('\n')).not.toContain(TEST_KEY);
    expect(t.logs().length).toBeGreaterThan(0);
    expect(t.logs()).not.toContain(TEST_KEY);
  });
});

/** A POST whose body arrives in chunks without a Content-Length. */
function chunkedPost(
  baseUrl: string,
  path: string,
  cookie: string,
  parts: string[],
): Promise<{ status: number }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path,
        agent: false,
        headers: { ...SPA_HEADERS, cookie, 'transfer-encoding': 'chunked' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', reject);
    for (const p of parts) req.write(p);
    req.end();
  });
}
