import { once } from 'node:events';
import { createConnection } from 'node:net';
import type { FakeGather } from '../fakes/fake-gather';
import { startProxyHarness, type ProxyHarness } from '../support/proxy-harness';
import { TEST_KEY, TEST_ORIGIN, type TestApp } from '../support/start-app';
import { parseRawAnswer, UUID, type Envelope } from '../support/http';

/** Longest wait for the BFF to answer and close; far above what a refusal takes. */
const CLOSE_WITHIN_MS = 5000;

/**
 * Request smuggling, sent raw over a socket: ambiguous framing (Content-Length with
 * Transfer-Encoding, repeated or conflicting Content-Length, obs-fold, bare LF) gets the 400
 * envelope and the connection ends, so no second request hides behind the first; Gather sees
 * exactly one well-formed request or none (docs/contract.md, "Error codes": 400).
 */
describe('request smuggling over a raw socket', () => {
  let h: ProxyHarness;
  let fake: FakeGather;
  let t: TestApp;
  let cookie: string;

  beforeAll(async () => {
    h = await startProxyHarness();
    ({ fake, t, cookie } = h);
  });
  beforeEach(() => fake.reset());
  afterAll(() => h.close());

  /** Writes `bytes` on a fresh connection; everything the BFF sent until it closed (or the bound). */
  const exchange = async (bytes: string): Promise<string> => {
    const socket = createConnection(Number(new URL(t.url).port), '127.0.0.1');
    socket.on('error', () => undefined);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.write(bytes);
    const bound = setTimeout(() => socket.destroy(), CLOSE_WITHIN_MS);
    await once(socket, 'close');
    clearTimeout(bound);
    return Buffer.concat(chunks).toString('latin1');
  };

  const spa = (): string =>
    `Host: x\r\nOrigin: ${TEST_ORIGIN}\r\nX-CSRF: 1\r\nCookie: ${cookie}\r\n`;
  const smuggled = (): string => `GET /api/gather/smuggled HTTP/1.1\r\n${spa()}\r\n`;

  /** The only answer is the 400 envelope, and nothing reached Gather. */
  const expectRefused = (answer: string): void => {
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer.match(/^HTTP\/1\.1 /gm)).toHaveLength(1);
    expect(answer).toContain('"code":"BAD_REQUEST"');
    expect(/\r\nX-Request-Id: ([^\r]+)/i.exec(answer)?.[1]).toMatch(UUID);
    expect(answer).not.toContain(TEST_KEY);
    expect(fake.requests).toHaveLength(0);
  };

  it.each([
    [
      'Content-Length with Transfer-Encoding',
      () =>
        `POST /api/gather/questions HTTP/1.1\r\n${spa()}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled()}`,
    ],
    [
      'Transfer-Encoding with Content-Length',
      () =>
        `POST /api/gather/questions HTTP/1.1\r\n${spa()}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n${smuggled()}`,
    ],
    [
      'two equal Content-Length headers',
      () =>
        `POST /api/gather/questions HTTP/1.1\r\n${spa()}Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}${smuggled()}`,
    ],
    [
      'two conflicting Content-Length headers',
      () =>
        `POST /api/gather/questions HTTP/1.1\r\n${spa()}Content-Length: 2\r\nContent-Length: 80\r\n\r\n{}${smuggled()}`,
    ],
    [
      'a Content-Length list',
      () =>
        `POST /api/gather/questions HTTP/1.1\r\n${spa()}Content-Length: 2, 2\r\n\r\n{}${smuggled()}`,
    ],
    [
      'a signed Content-Length',
      () => `POST /api/gather/questions HTTP/1.1\r\n${spa()}Content-Length: +2\r\n\r\n{}`,
    ],
    [
      'a Transfer-Encoding that does not end in chunked',
      () =>
        `POST /api/gather/questions HTTP/1.1\r\n${spa()}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled()}`,
    ],
    [
      'a space before the colon of Transfer-Encoding',
      () =>
        `POST /api/gather/questions HTTP/1.1\r\n${spa()}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n${smuggled()}`,
    ],
    [
      'an obs-folded Transfer-Encoding',
      () =>
        `POST /api/gather/questions HTTP/1.1\r\n${spa()}Transfer-Encoding: identity\r\n chunked\r\n\r\n0\r\n\r\n${smuggled()}`,
    ],
    [
      'an obs-folded header',
      () => `GET /api/gather/questions HTTP/1.1\r\n${spa()}X-Note: a\r\n b\r\n\r\n`,
    ],
    [
      'bare LF line endings',
      () => `GET /api/gather/questions HTTP/1.1\n${spa().replace(/\r\n/g, '\n')}\n`,
    ],
    [
      'a bare LF inside the headers',
      () => `GET /api/gather/questions HTTP/1.1\r\n${spa()}X-A: 1\nX-B: 2\r\n\r\n`,
    ],
    [
      'a bare CR inside a header value',
      () => `GET /api/gather/questions HTTP/1.1\r\n${spa()}X-A: 1\rX-Api-Key: qapi_x\r\n\r\n`,
    ],
    [
      'a chunk size that overflows',
      () =>
        `POST /api/gather/questions HTTP/1.1\r\n${spa()}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff1\r\nx\r\n0\r\n\r\n`,
    ],
    [
      'a chunk size that is not hex',
      () =>
        `POST /api/gather/questions HTTP/1.1\r\n${spa()}Transfer-Encoding: chunked\r\n\r\n-2\r\n{}\r\n0\r\n\r\n`,
    ],
  ])('refuses %s with 400 and closes the connection', async (_what, bytes) => {
    expectRefused(await exchange(bytes()));
  });

  it('forwards a chunked DELETE as one request whose body is the hidden one, never as two', async () => {
    const hidden = 'GET /api/gather/admin HTTP/1.1\r\nHost: x\r\n\r\n';
    const chunk = `${hidden.length.toString(16)}\r\n${hidden}\r\n0\r\n\r\n`;
    const answer = await exchange(
      `DELETE /api/gather/questions/1 HTTP/1.1\r\n${spa()}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer.match(/^HTTP\/1\.1 /gm)).toHaveLength(1);
    expect(fake.requests).toHaveLength(1);
    const got = fake.requests[0]!;
    expect(got.method).toBe('DELETE');
    expect(got.url).toBe('/qsi/gather/questions/1');
    expect(got.body.toString('latin1')).toBe(hidden);
    expect(got.headers['content-length']).toBe(String(hidden.length));
    expect(got.headers['transfer-encoding']).toBeUndefined();
  });

  it('refuses a chunked OPTIONS with 405 and never forwards the request hidden in its body', async () => {
    const hidden = smuggled();
    const chunk = `${hidden.length.toString(16)}\r\n${hidden}\r\n0\r\n\r\n`;
    const answer = await exchange(
      `OPTIONS /api/gather/questions HTTP/1.1\r\n${spa()}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 405 /);
    expect(answer.match(/^HTTP\/1\.1 /gm)).toHaveLength(1);
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses a body that runs past its Content-Length into a second request with one answer each', async () => {
    // The body is exactly 2 bytes; what follows is a second request on the same connection,
    // answered on its own (no cookie: 401), and never merged into the first.
    const answer = await exchange(
      `POST /api/gather/questions HTTP/1.1\r\n${spa()}Content-Length: 2\r\n\r\n{}GET /api/gather/next HTTP/1.1\r\nHost: x\r\nX-CSRF: 1\r\nConnection: close\r\n\r\n`,
    );
    expect(answer.match(/^HTTP\/1\.1 \d{3}/gm)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 401']);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.body.toString()).toBe('{}');
  });

  it.each([
    [
      'an HTTP/1.1 request without Host on the proxied path',
      () =>
        `GET /api/gather/questions HTTP/1.1\r\nOrigin: ${TEST_ORIGIN}\r\nX-CSRF: 1\r\nCookie: ${cookie}\r\n\r\n`,
    ],
    [
      'an HTTP/1.1 request without Host on an /auth route',
      () => `GET /auth/me HTTP/1.1\r\nCookie: ${cookie}\r\n\r\n`,
    ],
    ['a malformed request line', () => `GET /api/gather/questions HTTP/1.1 x\r\n${spa()}\r\n`],
    [
      "headers over Node's size limit",
      () => `GET /api/gather/questions HTTP/1.1\r\n${spa()}X-Big: ${'b'.repeat(20_000)}\r\n\r\n`,
    ],
  ])('answers %s, which Node itself refuses, with the 400 envelope', async (_what, bytes) => {
    const answer = parseRawAnswer(await exchange(bytes()));
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    const env = JSON.parse(answer.body) as Envelope;
    expect(env.error.code).toBe('BAD_REQUEST');
    expect(env.meta.requestId).toMatch(UUID);
    expect(answer.headers['x-request-id']).toBe(env.meta.requestId);
    expect(answer.headers.connection).toBe('close');
    expect(fake.requests).toHaveLength(0);
  });

  it('still serves after every refusal', async () => {
    const answer = await exchange(
      `GET /api/gather/after HTTP/1.1\r\n${spa()}Connection: close\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(fake.requests.map((r) => r.url)).toEqual(['/qsi/gather/after']);
  });
});
