import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BffError } from './error-codes';
import { envelopeOf, sendError } from './envelope';

describe('envelopeOf', () => {
  it("has Gather's shape, with details only when given", () => {
    const at = '2026-11-27T10:00:00.000Z';
    expect(envelopeOf(new BffError('NOT_FOUND'), 'id-1', at)).toEqual({
      error: { code: 'NOT_FOUND', message: 'Not found' },
      meta: { requestId: 'id-1', timestamp: at },
    });
    const limited = new BffError('RATE_LIMITED', 'Too many requests', { retryAfterSeconds: 12 });
    expect(envelopeOf(limited, 'id-2', at).error).toEqual({
      code: 'RATE_LIMITED',
      message: 'Too many requests',
      details: { retryAfterSeconds: 12 },
    });
  });

  it('stamps an ISO-8601 timestamp by default', () => {
    const { meta } = envelopeOf(new BffError('INTERNAL_ERROR'), 'id');
    expect(new Date(meta.timestamp).toISOString()).toBe(meta.timestamp);
  });
});

describe('sendError', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      // A handler that had started a success: its content headers must not survive.
      res.setHeader('Content-Type', 'text/csv');
      res.setHeader('ETag', '"x"');
      sendError(
        res,
        'req-9',
        new BffError('RATE_LIMITED', undefined, { retryAfterSeconds: 3 }, { 'Retry-After': '3' }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('writes status, envelope, X-Request-Id and the error headers, dropping content headers', async () => {
    const res = await fetch(url);
    expect(res.status).toBe(429);
    expect(res.headers.get('x-request-id')).toBe('req-9');
    expect(res.headers.get('retry-after')).toBe('3');
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('etag')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { error: unknown; meta: { requestId: string } };
    expect(body.error).toEqual({
      code: 'RATE_LIMITED',
      message: 'Too many requests',
      details: { retryAfterSeconds: 3 },
    });
    expect(body.meta.requestId).toBe('req-9');
  });
});
