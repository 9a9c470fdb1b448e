import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { BffError } from './error-codes';
import { envelopeOf, sendError } from './envelope';
import { assignRequestId } from './request-id';
import { proxiedSecurityHeaders } from './security-headers';
import { randomUUID } from 'node:crypto';

/**
 * On the answers written here, before any route has run: the strictest set (the proxied
 * path's), as these may answer a request for any path.
 */
const SECURITY_HEADERS = proxiedSecurityHeaders();

/** A complete raw HTTP response with the envelope, for sockets Node never made a response for. */
function rawEnvelope(err: BffError): string {
  const id = randomUUID();
  const body = JSON.stringify(envelopeOf(err, id));
  return [
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? ''}`,
    ...Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}`),
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `X-Request-Id: ${id}`,
    'Cache-Control: no-store',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/** The envelope for a request refused at the door, ending its connection. */
function answerAtTheDoor(req: IncomingMessage, res: ServerResponse, err: BffError): void {
  res.setHeader('Connection', 'close');
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  sendError(res, assignRequestId(req, res), err);
}

function answerExpectationFailed(req: IncomingMessage, res: ServerResponse): void {
  answerAtTheDoor(req, res, new BffError('EXPECTATION_FAILED'));
}

/**
 * Answers 400 to an HTTP/1.1 request without `Host` (RFC 9112, 3.2), which Node, left to itself,
 * refuses with a bare 400 of its own (see installServerErrorHooks). True when it answered.
 */
function refusedMissingHost(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.headers.host !== undefined || req.httpVersion !== '1.1') return false;
  answerAtTheDoor(req, res, new BffError('BAD_REQUEST', 'A Host header is required'));
  return true;
}

/**
 * Answers 417 to an `Expect` other than `100-continue` that Node let through to the request
 * handlers: on HTTP/1.0, or beside `100-continue` (Node then sent 100 Continue). True when it
 * answered.
 */
function refusedExpectation(req: IncomingMessage, res: ServerResponse): boolean {
  const expect = req.headers.expect;
  if (expect === undefined || expect.trim().toLowerCase() === '100-continue') return false;
  answerExpectationFailed(req, res);
  return true;
}

/**
 * What every request listener of a server with installServerErrorHooks runs first: the refusals
 * Node would otherwise make itself, in a bare answer. True when it answered.
 */
export function refusedAtTheDoor(req: IncomingMessage, res: ServerResponse): boolean {
  return refusedMissingHost(req, res) || refusedExpectation(req, res);
}

/**
 * Requests that never reach Express still get the envelope: what Node's parser rejects
 * (control characters, malformed request lines, headers too slow: 408), CONNECT, which Node
 * routes to its own event, an `Expect` other than `100-continue` (417), and an HTTP/1.1 request
 * without `Host` (400), which Node is told to let through for refusedAtTheDoor to answer.
 */
export function installServerErrorHooks(server: Server): void {
  // A createServer option that Node reads from the server on every request; Nest creates the
  // server, so it is set here.
  (server as Server & { requireHostHeader: boolean }).requireHostHeader = false;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    socket.end(rawEnvelope(new BffError(timedOut ? 'REQUEST_TIMEOUT' : 'BAD_REQUEST')));
  });
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.end(rawEnvelope(new BffError('METHOD_NOT_ALLOWED')));
  });
  // Node answers an unknown Expect with a bare 417 of its own unless someone listens.
  server.on('checkExpectation', answerExpectationFailed);
}

/** Longest wait for a request's headers (docs/contract.md, "Error codes": 408). */
export const HEADERS_TIMEOUT_MS = 10_000;

/**
 * Bounds how long a browser may take to send its headers: Node checks every
 * `connectionsCheckingInterval`, so one second keeps the cut between 10 and 11 s (the default
 * 30 s check would let a slow client hold the socket for 40).
 */
export function limitHeaderTime(server: Server): void {
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  // A createServer option that Node reads from the server when it starts listening; Nest
  // creates the server, so it is set here, before `listen`.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = 1000;
}

/**
 * On a connection: `undefined` when idle, `null` while a request runs, else also the requests
 * waiting their turn. A property rather than a WeakMap keyed by socket: V8's young-generation
 * collector keeps a long-lived WeakMap's entries alive, and with them each request's objects.
 */
const WAITING = Symbol('waiting');
type Queued = Duplex & { [WAITING]?: (() => void)[] | null };

/**
 * Hands requests under `prefix` to `handler` before Express sees them; everything else goes to
 * Express (the application's own listener) as before.
 */
export function routeAheadOfExpress(
  server: Server,
  prefix: string,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  const express = server.listeners('request') as ((
    req: IncomingMessage,
    res: ServerResponse,
  ) => void)[];
  server.removeAllListeners('request');
  const route = (req: IncomingMessage, res: ServerResponse): void => {
    if (refusedAtTheDoor(req, res)) return;
    if (req.url?.startsWith(prefix)) handler(req, res);
    else for (const listener of express) listener(req, res);
  };
  // Requests pipelined on one connection run one after the other: Node parses a whole burst at
  // once, and a client that never reads its answers must not have them all fetched and held
  // (docs/contract.md, "Streaming and retries": slow readers). The queue lives on the socket;
  // an array only when a request actually waits.
  const run = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket as Queued;
    res.once('close', () => {
      const next = socket[WAITING]?.shift();
      if (next) next();
      else socket[WAITING] = undefined;
    });
    route(req, res);
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as Queued;
    const waiting = socket[WAITING];
    if (waiting === undefined) {
      socket[WAITING] = null;
      run(req, res);
    } else if (waiting === null) socket[WAITING] = [() => run(req, res)];
    else waiting.push(() => run(req, res));
  });
}
