import { once } from 'node:events';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createConnection } from 'node:net';

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

/**
 * Writes bytes on a fresh connection and returns what comes back until the server closes (or
 * 3 s pass): for what node:http will not send, such as a malformed request line.
 */
export async function rawExchange(baseUrl: string, bytes: string): Promise<string> {
  const url = new URL(baseUrl);
  const socket = createConnection(Number(url.port), url.hostname);
  socket.write(bytes);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.setTimeout(3000, () => socket.destroy());
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('utf8');
}
