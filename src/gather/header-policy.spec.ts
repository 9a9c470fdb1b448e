import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import {
  forwardedToGather,
  headersToBrowser,
  headersToGather,
  setLine,
  type ForwardContext,
} from './header-policy';

const ctx: ForwardContext = {
  apiKey: 'qapi_serverKEY0123456789abc',
  requestId: 'req-1',
  clientIp: '203.0.113.7',
  proto: 'https',
  publicHost: 'app.example.com',
  bodyLength: 12,
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01',
};

const BUILT_IN = forwardedToGather([]);

/** The browser's headers that docs/contract.md, "Headers to Gather", lets through. */
const ALLOWED = {
  accept: 'application/json',
  'accept-encoding': 'gzip',
  'accept-language': 'en',
  'content-type': 'application/json',
  'content-encoding': 'gzip',
  'cache-control': 'no-cache',
  pragma: 'no-cache',
  'if-match': '"a"',
  'if-none-match': '"b"',
  'if-modified-since': 'Tue, 01 Dec 2026 10:00:00 GMT',
  'if-unmodified-since': 'Tue, 01 Dec 2026 10:00:00 GMT',
  'if-range': '"c"',
  range: 'bytes=0-99',
  prefer: 'return=minimal',
  'idempotency-key': 'k-1',
  'user-agent': 'Browser/1.0',
};

/** The BFF's own headers on a call with a body and no continued trace. */
const SET_BY_BFF = [
  'x-api-key',
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'traceparent',
  'content-length',
];

describe('headersToGather', () => {
  const out = headersToGather(
    {
      host: 'bff.local',
      accept: 'application/json',
      'content-type': 'application/json',
      'content-length': '999',
      cookie: 'gather_session=abc',
      authorization: 'Bearer browser',
      'proxy-authorization': 'Basic x',
      'x-api-key': 'qapi_browserKEY0123456789',
      'x-request-id': 'browser-chosen',
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-proto': 'gopher',
      'x-forwarded-host': 'evil.example',
      forwarded: 'for=6.6.6.6',
      'x-csrf': '1',
      connection: 'keep-alive, X-Secret-Hop',
      'x-secret-hop': 'drop me',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      upgrade: 'websocket',
      'transfer-encoding': 'chunked',
      expect: '100-continue',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01',
      tracestate: 'browser=chosen',
      baggage: 'userId=alice',
      'accept-language': 'en',
      origin: 'http://localhost:3000',
      'x-original-method': 'DELETE',
      via: '1.1 evil',
      'x-made-up-by-a-proxy': '1',
    },
    ctx,
    BUILT_IN,
  );

  it('sets exactly the server key, request id and forwarding headers', () => {
    expect(out['x-api-key']).toBe(ctx.apiKey);
    expect(out['x-request-id']).toBe('req-1');
    expect(out['x-forwarded-for']).toBe('203.0.113.7');
    expect(out['x-forwarded-proto']).toBe('https');
    expect(out['x-forwarded-host']).toBe('app.example.com');
    expect(out['content-length']).toBe('12');
    expect(out.traceparent).toBe(ctx.traceparent);
  });

  it('keeps allowed headers and drops credentials, hop-by-hop, unlisted and Connection-listed ones', () => {
    expect(Object.keys(out).sort()).toEqual(
      [
        'accept',
        'accept-language',
        'content-length',
        'content-type',
        'traceparent',
        'x-api-key',
        'x-forwarded-for',
        'x-forwarded-host',
        'x-forwarded-proto',
        'x-request-id',
      ].sort(),
    );
  });

  it("sends the browser's tracestate only as the BFF passes it on, and baggage never", () => {
    const incoming = { tracestate: 'browser=raw', baggage: 'userId=alice' };
    const continued = headersToGather(
      incoming,
      { ...ctx, tracestate: 'browser=cleaned' },
      BUILT_IN,
    );
    expect(continued.tracestate).toBe('browser=cleaned');
    expect(continued).not.toHaveProperty('baggage');
    expect(headersToGather(incoming, ctx, BUILT_IN)).not.toHaveProperty('tracestate');
  });

  it('sends no content-length for a request without a body', () => {
    expect(
      headersToGather({ accept: '*/*' }, { ...ctx, bodyLength: undefined }, BUILT_IN),
    ).not.toHaveProperty('content-length');
  });

  it('passes exactly the allow-list of the browser headers, values unchanged', () => {
    const invented = { 'x-original-uri': '/admin', 'x-anything': '1', 'sec-fetch-site': 'none' };
    const out = headersToGather({ ...ALLOWED, ...invented }, ctx, BUILT_IN);
    expect(out).toEqual({
      ...ALLOWED,
      ...Object.fromEntries(SET_BY_BFF.map((name) => [name, expect.any(String)])),
    });
  });

  it('adds the names of proxy.forwardHeaders, still dropping those the Connection header lists', () => {
    const forwarded = forwardedToGather(['x-tenant-hint', 'x-client-version']);
    const out = headersToGather(
      { 'x-tenant-hint': 'acme', 'x-client-version': '7', connection: 'x-client-version' },
      ctx,
      forwarded,
    );
    expect(out['x-tenant-hint']).toBe('acme');
    expect(out).not.toHaveProperty('x-client-version');
    expect(headersToGather({ 'x-tenant-hint': 'acme' }, ctx, BUILT_IN)).not.toHaveProperty(
      'x-tenant-hint',
    );
    expect(
      headersToGather({ accept: '*/*', connection: 'Accept' }, ctx, BUILT_IN),
    ).not.toHaveProperty('accept');
  });
});

/** What an answer from Gather that says nothing about caching carries to the browser. */
const PRIVATE = { 'cache-control': 'no-store', vary: 'Cookie' };

/** The flat head as an object, each name once (what the assertions below compare). */
function toBrowser(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const lines = headersToBrowser(upstream);
  const out: OutgoingHttpHeaders = {};
  for (let i = 0; i < lines.length; i += 2) {
    const name = lines[i] as string;
    expect(out).not.toHaveProperty(name);
    out[name] = lines[i + 1];
  }
  return out;
}

describe('headersToBrowser', () => {
  it("keeps Gather's order, then Cache-Control and Vary, flat as writeHead takes it", () => {
    expect(
      headersToBrowser({ date: 'd', 'content-type': 'application/json', etag: '"a"' }),
    ).toEqual([
      'date',
      'd',
      'content-type',
      'application/json',
      'etag',
      '"a"',
      'cache-control',
      'no-store',
      'vary',
      'Cookie',
    ]);
  });

  it('sets a line in its place when it is there, else at the end', () => {
    const lines = headersToBrowser({ 'content-length': '9', etag: '"a"' });
    setLine(lines, 'content-length', 4);
    setLine(lines, 'x-request-id', 'id');
    expect(lines).toEqual([
      'content-length',
      4,
      'etag',
      '"a"',
      'cache-control',
      'no-store',
      'vary',
      'Cookie',
      'x-request-id',
      'id',
    ]);
  });

  it('drops set-cookie, x-api-key, x-powered-by, hop-by-hop and Connection-listed headers', () => {
    const out = toBrowser({
      'content-type': 'application/json',
      'retry-after': '7',
      etag: '"a"',
      'set-cookie': ['gather=1'],
      'x-api-key': 'qapi_echoedKEY0123456789',
      'x-powered-by': 'Express',
      'x-request-id': 'upstream-id',
      connection: 'close, x-internal',
      'x-internal': 'secret',
      'transfer-encoding': 'chunked',
      'keep-alive': 'timeout=5',
    });
    expect(out).toEqual({
      'content-type': 'application/json',
      'retry-after': '7',
      etag: '"a"',
      ...PRIVATE,
    });
  });

  it("drops Gather's older RateLimit-* and leaves RateLimit-Policy and RateLimit to the merge", () => {
    const out = toBrowser({
      'content-type': 'application/json',
      'ratelimit-limit': '999',
      'ratelimit-remaining': '998',
      'ratelimit-reset': '1',
      'ratelimit-policy': '"g";q=1;w=1',
      ratelimit: '"g";r=0;t=1',
    });
    expect(out).toEqual({ 'content-type': 'application/json', ...PRIVATE });
  });

  it('reads a plain Connection value as naming no other header, in either case', () => {
    for (const connection of ['keep-alive', 'Keep-Alive', 'close', 'Close']) {
      expect(toBrowser({ connection, etag: '"a"', 'keep-alive': 'timeout=5' })).toEqual({
        etag: '"a"',
        ...PRIVATE,
      });
    }
    expect(toBrowser({ connection: 'Keep-Alive, X-Internal', 'x-internal': '1' })).toEqual(PRIVATE);
  });

  it('drops the headers that set state for the whole origin or steer the page', () => {
    const out = toBrowser({
      'content-type': 'application/json',
      nel: '{"report_to":"gather","max_age":31536000}',
      'report-to': '{"group":"gather","max_age":31536000,"endpoints":[]}',
      'reporting-endpoints': 'gather="https://gather.example/r"',
      'service-worker-allowed': '/',
      'accept-ch': 'Sec-CH-UA-Model',
      'critical-ch': 'Sec-CH-UA-Model',
      refresh: '0; url=https://evil.example',
      'origin-agent-cluster': '?0',
      'permissions-policy': 'camera=*',
      'document-policy': 'force-load-at-top',
      'speculation-rules': '"/rules.json"',
      link: '</evil.js>; rel=preload; as=script',
      'clear-site-data': '"cookies"',
      'alt-svc': 'h3=":443"',
      'access-control-allow-origin': '*',
    });
    expect(out).toEqual({ 'content-type': 'application/json', ...PRIVATE });
  });

  it("makes Gather's caching private and adds Cookie to its Vary", () => {
    expect(
      toBrowser({
        'cache-control': 'public, max-age=31536000, s-maxage=99',
        vary: 'Accept-Encoding',
      }),
    ).toEqual({ 'cache-control': 'private, max-age=31536000', vary: 'Accept-Encoding, Cookie' });
  });

  it('reads Cache-Control and Vary named in Connection as not sent', () => {
    expect(
      toBrowser({
        connection: 'Cache-Control, Vary',
        'cache-control': 'public, max-age=60',
        vary: 'Accept',
      }),
    ).toEqual(PRIVATE);
  });
});
