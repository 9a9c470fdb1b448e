import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** What the fake Gather received, exactly as it arrived. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query as sent on the request line. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Name/value pairs as on the wire, to count repeated headers. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  /** The BFF's port of the connection it came on: the same for calls on a reused connection. */
  readonly remotePort: number | undefined;
}

export type FakeHandler = (req: RecordedRequest, res: ServerResponse) => void;

export interface FakeGather {
  /** Base URL to give the BFF as GATHER_BASE_URL (ends in /qsi/gather). */
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  /** Replaces how the fake answers; the default is a 200 JSON echo of method and path. */
  handle: FakeHandler;
  /** Forgets recorded requests and restores the default handler. */
  reset(): void;
  close(): Promise<void>;
}

export const BASE_PATH = '/qsi/gather';

/** A Gather error envelope as the real API writes it. */
export function gatherError(code: string, message: string, extra: object = {}): string {
  return JSON.stringify({
    error: { code, message, ...extra },
    meta: { requestId: randomUUID(), timestamp: new Date().toISOString() },
  });
}

const echo: FakeHandler = (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': randomUUID() });
  res.end(JSON.stringify({ method: req.method, url: req.url }));
};

/** A loopback HTTP server standing in for Gather that records every request it gets. */
export async function startFakeGather(): Promise<FakeGather> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const fake: FakeGather = {
    baseUrl: '',
    requests,
    handle: echo,
    reset: () => {
      requests.length = 0;
      fake.handle = echo;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
        remotePort: req.socket.remotePort,
      };
      requests.push(recorded);
      fake.handle(recorded, res);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  (fake as { baseUrl: string }).baseUrl = `http://127.0.0.1:${port}${BASE_PATH}`;
  return fake;
}

/** A TCP server that does something other than HTTP with each connection (reset, garbage). */
export async function startRawServer(
  onConnection: (socket: Socket) => void,
): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onConnection(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${BASE_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
