import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';
import { createConnection, type Socket } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
  json<T = unknown>(): T;
}

export interface RawRequest {
  method?: string;
  /** Sent on the request line exactly as given: no normalisation, no re-encoding. */
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

/**
 * One HTTP exchange with nothing between the test and the server: unlike fetch, node:http sends
 * dot segments and odd encodings as written, which is what the path checks must see.
 */
export function send(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: req.method ?? 'GET',
        path: req.path,
        headers: req.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: body.toString('utf8'),
            json: <T>() => JSON.parse(body.toString('utf8')) as T,
          });
        });
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

/** What came back over a keep-alive agent (see get). */
export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** One GET over `agent`, so the test decides which connection carries it. */
export function get(
  baseUrl: string,
  path: string,
  agent: Agent,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}${path}`, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The one idle socket a keep-alive agent holds after an exchange. */
export function idleSocketOf(agent: Agent): Socket {
  const sockets = Object.values(agent.freeSockets).flat();
  expect(sockets).toHaveLength(1);
  return sockets[0] as Socket;
}

/** The error envelope's fields a test asserts on. */
export interface Envelope {
  error: { code: string; message: string; details?: Record<string, unknown> };
  meta: { requestId: string; timestamp: string };
}

/** A request id as the BFF generates them (RFC 4122 UUID v4). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A fetch answer that is the BFF's own error: status, code, one request id in body and header. */
export async function expectBffError(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as Envelope;
  expect(body.error.code).toBe(code);
  expect(body.meta.requestId).toMatch(UUID);
  expect(res.headers.get('x-request-id')).toBe(body.meta.requestId);
  expect(res.headers.get('cache-control')).toBe('no-store');
}

/** What came back on a raw connection, with times counted from when it was opened. */
export interface RawAnswer {
  readonly text: string;
  /** When the first byte of the answer arrived; undefined when none did. */
  readonly answeredAfterMs: number | undefined;
  /** When the server ended the connection; undefined when the test gave up first. */
  readonly closedAfterMs: number | undefined;
}

/**
 * Opens a connection and writes `bytes` (more can be written on `socket`); `answer` is what the
 * server sends until it ends the connection, or until `giveUpMs`, when the test ends it instead.
 */
export function openRaw(
  baseUrl: string,
  bytes: string,
  giveUpMs: number,
): { socket: Socket; answer: Promise<RawAnswer> } {
  const url = new URL(baseUrl);
  const socket = createConnection(Number(url.port), url.hostname);
  const openedAt = Date.now();
  const chunks: Buffer[] = [];
  let answeredAfterMs: number | undefined;
  let gaveUp = false;
  socket.on('error', () => undefined);
  socket.on('data', (c: Buffer) => {
    answeredAfterMs ??= Date.now() - openedAt;
    chunks.push(c);
  });
  const giveUp = setTimeout(() => {
    gaveUp = true;
    socket.destroy();
  }, giveUpMs);
  const answer = new Promise<RawAnswer>((resolve) => {
    socket.once('close', () => {
      clearTimeout(giveUp);
      resolve({
        text: Buffer.concat(chunks).toString('utf8'),
        answeredAfterMs,
        closedAfterMs: gaveUp ? undefined : Date.now() - openedAt,
      });
    });
  });
  socket.write(bytes);
  return { socket, answer };
}

/** Splits one raw HTTP/1.1 answer into status, lower-cased headers and body. */
export function parseRawAnswer(text: string): {
  status: number;
  headers: Record<string, string>;
  body: string;
} {
  const end = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4) };
}

/**
 * A body that paused past 10 s: `408 REQUEST_TIMEOUT` in the envelope, answered after more than
 * 10 s and by 14 s, and the connection closed by then (docs/contract.md, "Error codes": 408).
 */
export function expectBodyTimeout(answer: RawAnswer): void {
  expect(answer.answeredAfterMs).toBeDefined();
  expect(answer.closedAfterMs).toBeDefined();
  expect(answer.answeredAfterMs).toBeGreaterThan(10_000);
  expect(answer.answeredAfterMs).toBeLessThanOrEqual(14_000);
  expect(answer.closedAfterMs).toBeLessThanOrEqual(14_000);
  const res = parseRawAnswer(answer.text);
  expect(res.status).toBe(408);
  expect(res.headers.connection).toBe('close');
  const body = JSON.parse(res.body) as Envelope;
  expect(body.error.code).toBe('REQUEST_TIMEOUT');
  expect(body.meta.requestId).toMatch(UUID);
  expect(res.headers['x-request-id']).toBe(body.meta.requestId);
  expect(res.headers['cache-control']).toBe('no-store');
}

/**
 * Writes bytes on a fresh connection and returns what comes back until the server closes (or
 * 3 s pass): for what node:http will not send, such as a malformed request line.
 */
export async function rawExchange(baseUrl: string, bytes: string): Promise<string> {
  return (await openRaw(baseUrl, bytes, 3000).answer).text;
}
