import { randomUUID } from 'node:crypto';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { ConfigError } from '../../src/config/load-config';
import { gatherError, type FakeGather } from '../fakes/fake-gather';
import { configDirWith } from '../support/config-dir';
import type { Envelope, RawRequest, RawResponse } from '../support/http';
import { startProxyHarness, type ProxyHarness } from '../support/proxy-harness';
import { startTestApp, TEST_KEY, type TestApp } from '../support/start-app';

/**
 * Headers both ways, by class rather than by name (issue #23, defects 3 and 7): of the browser's
 * headers only an allow-list reaches Gather, and every answer from Gather is made private to its
 * user and loses what would set state for the whole origin (docs/contract.md, "Headers to
 * Gather", "Headers to the browser").
 */
describe('ANY /api/gather/* — headers by class', () => {
  let h: ProxyHarness;
  let fake: FakeGather;
  let t: TestApp;
  const call = (req: RawRequest): Promise<RawResponse> => h.call(req);

  beforeAll(async () => {
    const configDir = await configDirWith(
      [
        'proxy:',
        '  allow:',
        '    - { method: GET, path: /questions/** }',
        '  forwardHeaders: [X-Tenant-Hint]',
      ].join('\n'),
    );
    h = await startProxyHarness({ configDir });
    ({ fake, t } = h);
  });
  beforeEach(() => fake.reset());
  afterAll(() => h.close());

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

  describe('to the browser: private answers, nothing for the whole origin (defect 7)', () => {
    /** Headers that would set state for the BFF's whole origin or steer the page. */
    const originWide = {
      nel: '{"report_to":"gather","max_age":31536000}',
      'report-to':
        '{"group":"gather","max_age":31536000,"endpoints":[{"url":"https://evil.example"}]}',
      'reporting-endpoints': 'gather="https://evil.example/r"',
      'service-worker-allowed': '/',
      'accept-ch': 'Sec-CH-UA-Model, Sec-CH-UA-Platform-Version',
      'critical-ch': 'Sec-CH-UA-Model',
      refresh: '0; url=https://evil.example',
      'origin-agent-cluster': '?0',
      'permissions-policy': 'camera=*, geolocation=*',
      'document-policy': 'force-load-at-top',
      'speculation-rules': '"/qsi/gather/rules.json"',
      link: '<https://evil.example/x.js>; rel=preload; as=script',
      'set-cookie': 'gather=1; Path=/',
      'clear-site-data': '"cookies"',
      'alt-svc': 'h3=":443"',
      'access-control-allow-origin': '*',
    };

    /** Each way an answer reaches the browser: whole or piped, a success or a passed-through error. */
    const deliveries: [string, number, (res: ServerResponse, h: OutgoingHttpHeaders) => void][] = [
      [
        'a whole success',
        200,
        (res, h) => {
          res.writeHead(200, { 'content-type': 'application/json', ...h });
          res.end('{"data":[]}');
        },
      ],
      [
        'a piped success',
        200,
        (res, h) => {
          res.writeHead(200, { 'content-type': 'application/json', ...h });
          res.write('{"data":');
          setTimeout(() => res.end('[]}'), 50);
        },
      ],
      [
        'a whole error',
        404,
        (res, h) => {
          res.writeHead(404, { 'content-type': 'application/json', ...h });
          res.end(gatherError('NOT_FOUND', 'No such question'));
        },
      ],
      [
        'a piped error (too large to read whole)',
        500,
        (res, h) => {
          res.writeHead(500, { 'content-type': 'text/plain', ...h });
          res.end('e'.repeat(300 * 1024));
        },
      ],
    ];

    it.each(deliveries)(
      'makes %s private and drops the origin-wide headers',
      async (_what, status, answer) => {
        fake.handle = (_req, res) =>
          answer(res, {
            ...originWide,
            'cache-control': 'public, max-age=31536000, s-maxage=99',
            vary: 'Accept-Encoding',
          });
        const res = await call({ path: '/api/gather/questions/1' });
        expect(res.status).toBe(status);
        expect(res.headers['cache-control']).toBe('private, max-age=31536000');
        expect(res.headers.vary).toBe('Accept-Encoding, Cookie');
        for (const name of Object.keys(originWide)) {
          // The BFF's own security headers include this one: Gather's `?0` loses to it.
          if (name === 'origin-agent-cluster') expect(res.headers[name]).toBe('?1');
          else expect(res.headers[name]).toBeUndefined();
        }
        expect(res.headers['content-security-policy']).toBe(
          "default-src 'none'; frame-ancestors 'none'; sandbox",
        );
      },
    );

    it.each(deliveries)(
      'answers %s that says nothing about caching with no-store and Vary: Cookie',
      async (_what, status, answer) => {
        fake.handle = (_req, res) => answer(res, {});
        const res = await call({ path: '/api/gather/questions/1' });
        expect(res.status).toBe(status);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.headers.vary).toBe('Cookie');
      },
    );

    it("keeps Gather's own private caching and a Vary that already names Cookie", async () => {
      fake.handle = (_req, res) => {
        res.writeHead(200, {
          'cache-control': 'no-cache="set-cookie", Max-Age=60, PUBLIC',
          vary: 'cookie, Accept',
        });
        res.end('{}');
      };
      const res = await call({ path: '/api/gather/questions/1' });
      expect(res.headers['cache-control']).toBe('private, no-cache="set-cookie", Max-Age=60');
      expect(res.headers.vary).toBe('cookie, Accept');
    });

    it("sends the BFF's own envelopes on the proxied path uncacheable too", async () => {
      const refused = await call({ path: '/api/gather/answers' });
      expect(refused.status).toBe(403);
      expect(refused.json<Envelope>().error.code).toBe('ROUTE_NOT_ALLOWED');
      expect(refused.headers['cache-control']).toBe('no-store');
      expect(refused.headers.vary).toBe('Cookie');
      fake.handle = (_req, res) => {
        res.writeHead(401, { 'cache-control': 'public, max-age=600', vary: 'Accept' });
        res.end(gatherError('UNAUTHORIZED', 'Invalid API key'));
      };
      const rejected = await call({ path: '/api/gather/questions/1' });
      expect(rejected.status).toBe(502);
      expect(rejected.json<Envelope>().error.code).toBe('UPSTREAM_UNAUTHORIZED');
      expect(rejected.headers['cache-control']).toBe('no-store');
      expect(rejected.headers.vary).toBe('Cookie');
    });
  });

  it('never shows the key in a response or a log line', () => {
    expect(h.seen.length).toBeGreaterThan(10);
    expect(h.seen.join('\n')).not.toContain(TEST_KEY);
    expect(t.logs()).not.toContain(TEST_KEY);
  });
});
