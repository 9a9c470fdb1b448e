import { request } from 'node:http';
import type { Socket } from 'node:net';
import { startRawServer } from '../fakes/fake-gather';
import { freePort } from '../../src/http/free-port';
import { send, type Envelope, type RawResponse } from '../support/http';
import { startSignedInApp, type SignedInApp } from '../support/proxy-harness';
import { SPA_HEADERS } from '../support/spa';
import type { TestApp } from '../support/start-app';
import { Metrics } from '../../src/observability/metrics.service';

const OK_BODY = '{"ok":true}';

/** Gather's 200 as raw bytes, keeping the connection open; a HEAD answer has no body. */
function ok(method: string): string {
  const head = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${OK_BODY.length}\r\nConnection: keep-alive\r\n\r\n`;
  return method === 'HEAD' ? head : head + OK_BODY;
}

/** A request as the raw fake sees it: its method, and its place on its connection (0, 1, …). */
interface RawCall {
  readonly method: string;
  readonly onConnection: number;
}

/**
 * A TCP stand-in for Gather that parses request heads (bodies skipped by Content-Length) and
 * lets each test decide, per connection and per request, what to do with the socket.
 */
async function startRawGather(
  onRequest: (socket: Socket, call: RawCall, connection: number) => void,
): Promise<{ baseUrl: string; connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const raw = await startRawServer((socket) => {
    const connection = connections++;
    let buffered = Buffer.alloc(0);
    let onConnection = 0;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.subarray(end + 4 + length);
        const method = head.slice(0, head.indexOf(' '));
        onRequest(socket, { method, onConnection: onConnection++ }, connection);
      }
    });
  });
  return { ...raw, connections: () => connections };
}

describe('the one retry of a GET or HEAD on a new connection', () => {
  let signedIn: SignedInApp | undefined;
  let cookie: string;
  let closeGather: (() => Promise<void>) | undefined;

  afterEach(async () => {
    await signedIn?.close();
    await closeGather?.();
    signedIn = undefined;
    closeGather = undefined;
  });

  const startWith = async (baseUrl: string, env: Record<string, string> = {}): Promise<TestApp> => {
    signedIn = await startSignedInApp(baseUrl, { env });
    cookie = signedIn.cookie;
    return signedIn.t;
  };
  const startGather = async (
    onRequest: Parameters<typeof startRawGather>[0],
  ): Promise<Awaited<ReturnType<typeof startRawGather>>> => {
    const gather = await startRawGather(onRequest);
    closeGather = () => gather.close();
    return gather;
  };
  const call = (app: TestApp, method = 'GET', body?: string): Promise<RawResponse> =>
    send(app.url, {
      method,
      path: '/api/gather/questions',
      headers: { ...SPA_HEADERS, cookie },
      body,
    });
  const counter = async (app: TestApp, line: RegExp): Promise<number> =>
    Number(line.exec(await app.app.get(Metrics).text())?.[1]);
  const retries = (app: TestApp): Promise<number> =>
    counter(app, /^gather_upstream_retries_total (\d+)$/m);
  const unreachable = (app: TestApp): Promise<number> =>
    counter(app, /^gather_upstream_failures_total\{kind="unreachable"\} (\d+)$/m);

  /** The first connection is reset as soon as its first request arrives; the others answer. */
  const resetFirstConnection = (socket: Socket, c: RawCall, connection: number): void => {
    if (connection === 0) socket.resetAndDestroy();
    else socket.write(ok(c.method));
  };

  it.each(['GET', 'HEAD'])(
    'sends a %s whose connection is reset before any answer once more, on a new connection',
    async (method) => {
      const gather = await startGather(resetFirstConnection);
      const app = await startWith(gather.baseUrl);
      const res = await call(app, method);
      expect(res.status).toBe(200);
      expect(res.text).toBe(method === 'HEAD' ? '' : OK_BODY);
      expect(gather.connections()).toBe(2);
      expect(await retries(app)).toBe(1);
      expect(await unreachable(app)).toBe(0);
    },
  );

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])(
    'never sends a %s twice: 502 BAD_GATEWAY',
    async (method) => {
      const gather = await startGather(resetFirstConnection);
      const app = await startWith(gather.baseUrl);
      const res = await call(app, method, method === 'DELETE' ? undefined : '{"a":1}');
      expect(res.status).toBe(502);
      expect(res.json<Envelope>().error.code).toBe('BAD_GATEWAY');
      expect(gather.connections()).toBe(1);
      expect(await retries(app)).toBe(0);
      expect(await unreachable(app)).toBe(1);
    },
  );

  it('retries on a connection of its own, not on another socket of the keep-alive pool', async () => {
    // Every connection answers its first request and closes, unanswered, on its second: what
    // Gather does when it drops a keep-alive connection just as the BFF reuses it.
    const waiting: (() => void)[] = [];
    const gather = await startGather((socket, c, connection) => {
      if (c.onConnection > 0) return void socket.destroy();
      const answer = (): void => void socket.write(ok(c.method));
      if (connection > 1) return answer();
      // The first two answers wait for each other, so the pool ends up holding two sockets.
      waiting.push(answer);
      if (waiting.length === 2) for (const w of waiting) w();
    });
    const app = await startWith(gather.baseUrl);
    const [a, b] = await Promise.all([call(app), call(app)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(gather.connections()).toBe(2);

    const res = await call(app);
    expect(res.status).toBe(200);
    // The pooled socket failed; the retry did not take the other pooled one, it opened a third.
    expect(gather.connections()).toBe(3);
    expect(await retries(app)).toBe(1);
  });

  it('never retries once Gather has sent a byte of its answer', async () => {
    const gather = await startGather((socket) => {
      // Closed, not reset: a reset may discard bytes the BFF has not read yet.
      socket.end('HTTP/1.1 200 OK\r\n');
    });
    const app = await startWith(gather.baseUrl);
    const res = await call(app);
    expect(res.status).toBe(502);
    expect(res.json<Envelope>().error.code).toBe('BAD_GATEWAY');
    expect(gather.connections()).toBe(1);
    expect(await retries(app)).toBe(0);
  });

  it('never retries a body cut after the head: the browser connection is closed', async () => {
    const gather = await startGather((socket) => {
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789');
    });
    const app = await startWith(gather.baseUrl);
    const outcome = await new Promise<string>((resolve) => {
      const req = request(
        `${app.url}/api/gather/questions`,
        { agent: false, headers: { ...SPA_HEADERS, cookie } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(`${res.statusCode} complete`));
          res.on('error', () => resolve(`${res.statusCode} cut`));
        },
      );
      req.on('error', (err) => resolve(`request failed: ${err.message}`));
      req.end();
    });
    expect(outcome).toBe('200 cut');
    expect(gather.connections()).toBe(1);
    expect(await retries(app)).toBe(0);
  });

  it('never retries a timeout: 504 GATEWAY_TIMEOUT after one attempt', async () => {
    const gather = await startGather(() => undefined);
    const app = await startWith(gather.baseUrl, { GATHER_TIMEOUT_MS: '300' });
    const res = await call(app);
    expect(res.status).toBe(504);
    expect(res.json<Envelope>().error.code).toBe('GATEWAY_TIMEOUT');
    expect(gather.connections()).toBe(1);
    expect(await retries(app)).toBe(0);
  });

  it('retries a refused connection once, then answers 502 BAD_GATEWAY', async () => {
    const app = await startWith(`http://127.0.0.1:${await freePort()}/qsi/gather`);
    const res = await call(app);
    expect(res.status).toBe(502);
    expect(res.json<Envelope>().error.code).toBe('BAD_GATEWAY');
    expect(await retries(app)).toBe(1);
    expect(await unreachable(app)).toBe(1);
  });
});
