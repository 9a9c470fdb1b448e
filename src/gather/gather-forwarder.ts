import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  createProxyMiddleware,
  proxyEventsPlugin,
  type Options,
  type RequestHandler,
} from 'http-proxy-middleware';
import {
  Agent as HttpAgent,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Duplex } from 'node:stream';
import type { AppConfig } from '../config/config.schema';
import { clientAddress, type ClientAddress } from '../http/client-address';
import { BffError } from '../http/error-codes';
import { sendError } from '../http/envelope';
import { usableRequestId } from '../http/request-id';
import { proxiedSecurityHeaders } from '../http/security-headers';
import { GatherKeys } from '../keys/gather-keys.service';
import { audit } from '../audit/audit';
import { KeyPauses } from '../capacity/key-pauses';
import { upstreamWait } from '../capacity/upstream-wait';
import {
  mergedRateLimitFields,
  writeRateLimitFields,
  type RateLimitItem,
} from '../capacity/rate-limit-fields';
import { Metrics } from '../observability/metrics.service';
import { Tracing } from '../observability/tracing';
import { readGatherError } from './gather-error-body';
import { forwardedToGather, headersToBrowser, headersToGather, setLine } from './header-policy';
import { gatherLocation } from './location';
import type { ForwardableCall, ProxyCall } from './proxy-call';
import type { Socket } from 'node:net';
import { droppedForStrayBytes, endStrayBodyWatch, watchForStrayBody } from './stray-body';

/** Error bodies are read whole (to find Gather's requestId); past this they stream through. */
const MAX_ERROR_BODY = 256 * 1024;

/** A browser may take nothing of a streamed answer for this many GATHER_TIMEOUT_MS. */
const BROWSER_STALL_TIMEOUTS = 4;

const NO_ITEMS: readonly RateLimitItem[] = [];

/** How a connection fails when Gather never got, or never answered, the request on it. */
const UNANSWERED = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE']);

/**
 * The call a request being forwarded belongs to, on the request itself: the proxy library's
 * events hand back only the request. Not a WeakMap: V8's young-generation collector keeps every
 * entry of a long-lived WeakMap alive, so each request's objects would survive into the old
 * generation until the next full collection (docs/benchmarks.md, "Memory").
 */
const CALL = Symbol('proxyCall');
type Forwarded = IncomingMessage & { [CALL]?: Attempt };
const callOf = (req: IncomingMessage): Attempt | undefined => (req as Forwarded)[CALL];

/** The forwarder's own state of a call's attempts at Gather. */
interface AttemptState {
  /** Gather did not answer within GATHER_TIMEOUT_MS. */
  timedOut: boolean;
  /** Replayed once already after Gather refused the key. */
  retried: boolean;
  /** Sent again once already, on a new connection, after the first got no answer. */
  reconnected: boolean;
  /**
   * `Date.now()` by which Gather's response head must be in, set by the first attempt: a retry
   * or a replay gets what is left of it, not a deadline of its own.
   */
  headDueAt: number | undefined;
  /** The connection of the latest attempt to Gather, and what it had read before that attempt. */
  upstreamSocket: Socket | undefined;
  upstreamReadBefore: number;
  /** The latest attempt's request to Gather. */
  upstreamRequest: UpstreamRequest | undefined;
}

/** A checked call being forwarded: its checks' result and the forwarder's state of it. */
type Attempt = ForwardableCall & AttemptState;

/**
 * Makes `checked` the call's attempt state: no object of its own. One named store per field, not
 * `Object.assign` of a template: V8 turns an object that already carries the checks' fields into
 * a dictionary when six more arrive through `Object.assign`, and every later read of the call
 * (the answer, the log line) then pays a hash lookup.
 */
function firstAttempt(checked: ForwardableCall): Attempt {
  const call = checked as Attempt;
  call.timedOut = false;
  call.retried = false;
  call.reconnected = false;
  call.headDueAt = undefined;
  call.upstreamSocket = undefined;
  call.upstreamReadBefore = 0;
  call.upstreamRequest = undefined;
  return call;
}

const ATTEMPT = Symbol('attempt');
const HEAD_DEADLINE = Symbol('headDeadline');

/**
 * A request to Gather with its attempt and its head's deadline, for listeners that every attempt
 * shares: no closure or `once` wrapper is made per call.
 */
type UpstreamRequest = ClientRequest & {
  [ATTEMPT]?: Attempt;
  [HEAD_DEADLINE]?: NodeJS.Timeout;
};

/** Gather took too long: the attempt ends, and its 'error' reaches onError as a timeout. */
function expire(upstream: UpstreamRequest): void {
  const call = upstream[ATTEMPT];
  if (call) call.timedOut = true;
  upstream.destroy();
}

/** 'timeout': a pause in the answer's body outlasted GATHER_TIMEOUT_MS. */
function onUpstreamIdle(this: UpstreamRequest): void {
  expire(this);
}

/** 'close': whatever ended the request, its head's deadline goes with it. */
function onUpstreamClose(this: UpstreamRequest): void {
  clearTimeout(this[HEAD_DEADLINE]);
}

/**
 * 'upgrade': a 101 to a request that asked for no upgrade is not HTTP for it; Node hands over the
 * socket. Reported as the request's error, which reaches onError through the proxy library.
 */
function onUpstreamUpgrade(this: UpstreamRequest, _res: IncomingMessage, socket: Duplex): void {
  socket.destroy();
  this.emit('error', new Error('Gather switched protocols unasked'));
}

/**
 * Forwards a checked request to Gather with http-proxy-middleware and answers the browser:
 * the header policy both ways, the error pass-through and the 401 → reload → replay rule
 * (docs/contract.md, "Error envelope", "Headers to Gather", "Headers to the browser", "Keys").
 */
@Injectable()
export class GatherForwarder implements OnApplicationShutdown {
  private readonly logger = new Logger('GatherProxy');
  private readonly agent: HttpAgent;
  private readonly handler: RequestHandler<IncomingMessage, ServerResponse>;
  /** The same proxy on a connection of its own (no pool), for the one retry of a GET or HEAD. */
  private readonly reconnectHandler: RequestHandler<IncomingMessage, ServerResponse>;
  private readonly base: URL;
  private readonly basePath: string;
  private readonly publicHost: string;
  private readonly client: ClientAddress;
  private readonly securityHeaders: Readonly<Record<string, string>>;
  /** The same, flat (name, value, …), as every answer's head takes them. */
  private readonly securityLines: readonly string[];
  /** The browser headers Gather may receive (docs/contract.md, "Headers to Gather"). */
  private readonly forwardedHeaders: ReadonlySet<string>;
  private readonly timeoutMs: number;
  private readonly maxPauseSeconds: number;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(GatherKeys) private readonly keys: GatherKeys,
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(Tracing) private readonly tracing: Tracing,
    @Inject(KeyPauses) private readonly pauses: KeyPauses,
  ) {
    const gather = config.get('gather', { infer: true });
    this.maxPauseSeconds = gather.maxPauseSeconds;
    const server = config.get('server', { infer: true });
    this.timeoutMs = gather.timeoutMs;
    this.base = new URL(gather.baseUrl);
    this.basePath = this.base.pathname.replace(/\/$/, '');
    this.publicHost = new URL(server.publicUrl).host;
    this.client = clientAddress(server.trustProxy);
    this.securityHeaders = proxiedSecurityHeaders();
    this.securityLines = Object.freeze(Object.entries(this.securityHeaders).flat());
    this.forwardedHeaders = forwardedToGather(config.get('proxy', { infer: true }).forwardHeaders);
    // One keep-alive pool to Gather for the whole process; LIFO keeps the warm sockets busy.
    const agentOptions = { keepAlive: true, scheduling: 'lifo' as const };
    this.agent = gather.baseUrl.startsWith('https:')
      ? new HttpsAgent(agentOptions)
      : new HttpAgent(agentOptions);
    const options: Options<IncomingMessage, ServerResponse> = {
      // A URL, not the string: the library parses a string target on every request. Only the
      // origin: the forwarder writes the whole path, as the library's join drops the slash of
      // `/api/gather/` (`GATHER_BASE_URL/` would become `GATHER_BASE_URL`).
      target: new URL(this.base.origin),
      changeOrigin: true,
      agent: this.agent,
      selfHandleResponse: true,
      // The library's request logger formats a URL per response and its error responder
      // answers in plain text: the pipeline logs once and answers in the envelope instead. Its
      // debug plugin adds listeners to every response for what `on.error` and the proxy's own
      // close handling already cover; only the `on:` events stay.
      ejectPlugins: true,
      plugins: [proxyEventsPlugin],
      on: {
        proxyReq: (proxyReq, req) => this.onProxyReq(proxyReq, req),
        proxyRes: (proxyRes, req, res) => this.onProxyRes(proxyRes, req, res),
        error: (err, req) => this.onError(err, req),
      },
    };
    this.handler = createProxyMiddleware(options);
    this.reconnectHandler = createProxyMiddleware({ ...options, agent: false });
  }

  /** Sends `call` (checked, its key chosen, its body read) to Gather. */
  forward(checked: ForwardableCall): void {
    const call = firstAttempt(checked);
    const { req, target, key } = call;
    // A browser that left during the checks: nothing goes to Gather (the proxy aborts on the
    // response's close, which has already happened).
    if (call.res.destroyed) return;
    // Read before the headers are replaced: both follow X-Forwarded-* under TRUST_PROXY.
    const clientIp = this.client.ip(req);
    const proto = this.client.protocol(req);
    req.headers = headersToGather(
      req.headers,
      {
        apiKey: key.value,
        requestId: call.requestId,
        clientIp,
        proto,
        publicHost: this.publicHost,
        bodyLength: call.body?.length,
        traceparent: this.tracing.gatherCall(call.trace, req.method as string, target.path),
        tracestate: call.trace.tracestate,
      },
      this.forwardedHeaders,
    ) as IncomingHttpHeaders;
    req.url = this.basePath + target.path + target.search;
    (req as Forwarded)[CALL] = call;
    // Each attempt adds the proxy library's own 'close' listeners to the response; a replay after
    // a 401 or a retry would pass Node's leak-warning threshold of 10 on an ordinary request.
    call.res.setMaxListeners(20);
    this.send(call);
  }

  /** After the public listener has closed, so no proxied call still in flight loses its socket. */
  onApplicationShutdown(): void {
    // Closing the pool is not Gather sending a stray body.
    for (const sockets of Object.values(this.agent.freeSockets)) {
      for (const socket of sockets ?? []) endStrayBodyWatch(socket);
    }
    this.agent.destroy();
  }

  private send(call: Attempt): void {
    void this.handler(call.req, call.res, () => undefined);
  }

  private onProxyReq(proxyReq: ClientRequest, req: IncomingMessage): void {
    const call = callOf(req);
    if (!call) return;
    // What the socket had read before this attempt: more by the time it fails is an answer begun.
    call.upstreamSocket = proxyReq.socket ?? undefined;
    call.upstreamReadBefore = proxyReq.socket?.bytesRead ?? 0;
    if (call.upstreamSocket) endStrayBodyWatch(call.upstreamSocket);
    // The head has one deadline (a socket idle timer would restart with every byte of a head
    // sent a byte at a time), counted from the first attempt; once the head is in, the idle
    // timer bounds each pause in the body (onProxyRes).
    const now = Date.now();
    call.headDueAt ??= now + this.timeoutMs;
    const upstream: UpstreamRequest = proxyReq;
    call.upstreamRequest = upstream;
    upstream[ATTEMPT] = call;
    upstream[HEAD_DEADLINE] = setTimeout(expire, Math.max(0, call.headDueAt - now), upstream);
    upstream.on('close', onUpstreamClose);
    upstream.on('upgrade', onUpstreamUpgrade);
    // The browser's stream was already read into `body`; piping the ended stream only ends proxyReq.
    if (call.body !== undefined && call.body.length > 0) proxyReq.write(call.body);
  }

  private onProxyRes(proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse): void {
    const call = callOf(req);
    if (!call) return;
    const upstream = call.upstreamRequest;
    if (upstream) {
      clearTimeout(upstream[HEAD_DEADLINE]);
      upstream.setTimeout(this.timeoutMs);
      upstream.on('timeout', onUpstreamIdle);
    }
    if (res.destroyed) return;
    const status = proxyRes.statusCode ?? 502;
    this.metrics.upstreamResponse(call.key.fingerprint, status);
    this.tracing.gatherAnswered(call.trace, status);
    if (status === 429 || status === 503 || proxyRes.headers.ratelimit !== undefined) {
      this.pauseIfAsked(call, proxyRes, status);
    }
    const headerId = usableRequestId(proxyRes.headers['x-request-id']);
    if (status < 400) {
      // Answered on this turn of the event loop, after every read that is ready: the answers
      // whose heads came in together go to their browsers together, one wake-up of each reader
      // per turn rather than per answer (docs/architecture.md, "Batching by event-loop turn").
      // A body after a bodyless head (204, 304, HEAD) has failed the parse by then, so the 502
      // can still be answered instead of the head; one that comes later closes the browser's
      // connection (docs/contract.md, "Headers to the browser").
      setImmediate(() => this.answer(call, proxyRes, status, headerId));
      return;
    }
    if (status === 401) {
      void this.onRejected(call, proxyRes, headerId);
      return;
    }
    void this.collect(proxyRes).then((body) => {
      if (res.destroyed) return;
      if (body === undefined) {
        if (this.head(call, status, proxyRes.headers, headerId)) {
          this.stream(call, proxyRes);
          proxyRes.resume();
        } else proxyRes.destroy();
        return;
      }
      const id = usableRequestId(readGatherError(body).requestId) ?? headerId;
      if (call.req.method === 'HEAD' && this.refusedStrayBody(call)) return;
      if (!this.head(call, status, proxyRes.headers, id, body.length)) return;
      res.end(body);
      if (call.req.method === 'HEAD') this.closeOnStrayBody(call);
    });
  }

  /**
   * Gather asked to wait (docs/capacity.md, "Pauses"): the key this call used is paused; the
   * answer itself passes through unchanged.
   */
  private pauseIfAsked(call: Attempt, proxyRes: IncomingMessage, status: number): void {
    const wait = upstreamWait(
      status,
      proxyRes.headers,
      proxyRes.rawHeaders,
      Date.now(),
      this.maxPauseSeconds,
    );
    if (wait) this.pauses.pause(call.key.fingerprint, wait);
  }

  /** Passes Gather's answer (below 400) to the browser, unless the browser left or was answered. */
  private answer(
    call: Attempt,
    proxyRes: IncomingMessage,
    status: number,
    headerId: string | undefined,
  ): void {
    const { res } = call;
    const bodyless = status === 204 || status === 304 || call.req.method === 'HEAD';
    if (
      res.headersSent ||
      res.destroyed ||
      (bodyless && this.refusedStrayBody(call)) ||
      !this.head(call, status, proxyRes.headers, headerId)
    ) {
      proxyRes.destroy();
      return;
    }
    if (proxyRes.complete) {
      // The whole answer came in with its head, as nearly every JSON answer does: it is already
      // in memory, so it goes out in one write, without a stream pipe's listeners and ticks
      // (docs/architecture.md, "A whole answer in one write"). Reading it to the end frees
      // Gather's connection for the next call.
      const body = proxyRes.read() as Buffer | null;
      res.end(body ?? undefined);
      // Only an answer without a body pays for more than this check.
      if (body === null && bodyless) this.closeOnStrayBody(call);
      return;
    }
    // An event stream opens in the browser now, not with its first event (EventSource `open`).
    if (proxyRes.headers['content-type']?.startsWith('text/event-stream')) res.flushHeaders();
    this.stream(call, proxyRes);
  }

  /**
   * Streams the rest of Gather's answer to the browser, with backpressure. GATHER_TIMEOUT_MS
   * bounds Gather's pauses inside a body, not the browser's: while the browser holds the stream
   * back, Gather's idle timer stands still, and it restarts once the browser drains. A browser
   * that takes nothing for BROWSER_STALL_TIMEOUTS times GATHER_TIMEOUT_MS loses the answer, so a
   * reader that never reads cannot hold a connection to Gather for ever (docs/contract.md,
   * "Streaming and retries").
   */
  private stream(call: Attempt, proxyRes: IncomingMessage): void {
    const { res, upstreamSocket } = call;
    let stalled: NodeJS.Timeout | undefined;
    const cut = (): void => {
      this.logger.warn(
        { requestId: call.requestId, traceId: call.trace.traceId },
        'The browser took nothing of the answer for too long: closed',
      );
      res.destroy();
    };
    const held = (): void => {
      stalled ??= setTimeout(cut, BROWSER_STALL_TIMEOUTS * this.timeoutMs);
      // Only while the answer is still coming: after it, the connection is back in the pool.
      if (!proxyRes.complete) upstreamSocket?.setTimeout(0);
    };
    proxyRes.on('pause', held);
    res.on('drain', () => {
      clearTimeout(stalled);
      stalled = undefined;
      if (!proxyRes.complete) upstreamSocket?.setTimeout(this.timeoutMs);
    });
    // Unpiping on close pauses the stream too: no browser is holding anything back then.
    res.once('close', () => {
      proxyRes.off('pause', held);
      clearTimeout(stalled);
    });
    proxyRes.pipe(res);
  }

  /**
   * Before a bodyless answer goes to the browser: bytes that came with it have already made Node
   * drop Gather's connection (see droppedForStrayBytes), and the browser gets 502 instead of the
   * head. True when it did.
   */
  private refusedStrayBody(call: Attempt): boolean {
    if (!droppedForStrayBytes(call.upstreamSocket)) return false;
    this.strayBody(call.requestId, call.trace.traceId);
    this.fail(call, new BffError('BAD_GATEWAY'));
    return true;
  }

  /** After a bodyless answer went to the browser (see watchForStrayBody). */
  private closeOnStrayBody(call: Attempt): void {
    if (!call.upstreamSocket) return;
    // The ids only: the watch may wait in the pool long after the call is done.
    const { requestId } = call;
    const { traceId } = call.trace;
    watchForStrayBody(call.upstreamSocket, call.req.socket, () =>
      this.strayBody(requestId, traceId),
    );
  }

  private strayBody(requestId: string, traceId: string): void {
    this.logger.warn({ requestId, traceId }, 'Gather sent a body after a bodyless answer');
  }

  /**
   * Writes the head of Gather's answer for the browser: the one place that does. `gatherId` is
   * Gather's usable request id, if any. False when the head could not be written (the browser
   * then got the 502 envelope instead).
   */
  private head(
    call: Attempt,
    status: number,
    upstream: IncomingHttpHeaders,
    gatherId: string | undefined,
    contentLength?: number,
  ): boolean {
    const lines = headersToBrowser(upstream);
    const location = upstream.location;
    if (location !== undefined) {
      const rewritten = gatherLocation(location, this.base, this.basePath + call.target.path);
      if (rewritten !== undefined) lines.push('location', rewritten);
    }
    for (let i = 0; i < this.securityLines.length; i++) lines.push(this.securityLines[i]!);
    const rateLimit = mergedRateLimitFields(
      upstream['ratelimit-policy'],
      upstream.ratelimit,
      call.rateLimits ?? NO_ITEMS,
    );
    if (rateLimit.policy !== undefined) lines.push('ratelimit-policy', rateLimit.policy);
    if (rateLimit.state !== undefined) lines.push('ratelimit', rateLimit.state);
    lines.push('x-request-id', gatherId ?? call.requestId);
    if (contentLength !== undefined) setLine(lines, 'content-length', contentLength);
    call.gatherRequestId = gatherId;
    try {
      call.res.writeHead(status, lines);
      return true;
    } catch {
      // Nothing Gather sends may stop the process: a head Node will not write is Gather's fault.
      sendError(call.res, call.requestId, new BffError('BAD_GATEWAY'));
      return false;
    }
  }

  /**
   * Gather refused the server's key. Reload it once (shared with concurrent requests) and, if it
   * changed, replay the request; otherwise tell the browser it is the server's key, not its
   * session, with Gather's request id from the refusal's body.
   */
  private async onRejected(
    call: Attempt,
    proxyRes: IncomingMessage,
    headerId: string | undefined,
  ): Promise<void> {
    // The refused attempt's connection: its body is read (or dropped) without its idle timer,
    // as a pause in it must not end the browser's answer (the proxy library ends the answer
    // when an unfinished Gather answer closes).
    call.upstreamSocket?.setTimeout(0);
    if (!call.retried) {
      call.retried = true;
      const fresh = await this.keys
        .reloadAfterRejection(call.key, { requestId: call.requestId, userId: call.user.id })
        .catch(() => undefined);
      if (fresh && !call.res.destroyed) {
        // Not needed: drained, so that its connection is freed once Gather finishes it.
        proxyRes.resume();
        call.key = fresh;
        call.req.headers['x-api-key'] = fresh.value;
        this.send(call);
        return;
      }
    }
    // Cut short when too long or too slow: then the BFF's own id stands in for Gather's.
    const body = (await this.collect(proxyRes)) ?? Buffer.alloc(0);
    if (call.res.destroyed) return;
    const meta = readGatherError(body);
    const id = usableRequestId(meta.requestId) ?? headerId;
    call.gatherRequestId = id;
    const details: Record<string, unknown> = { upstreamStatus: 401 };
    if (meta.code) details.upstreamCode = meta.code;
    audit('key.rejected', {
      key: call.key.fingerprint,
      userId: call.user.id,
      requestId: call.requestId,
      gatherRequestId: id,
    });
    this.fail(call, new BffError('UPSTREAM_UNAUTHORIZED', undefined, details), id, meta.timestamp);
  }

  /**
   * Reads an error body whole when it is small and comes within GATHER_TIMEOUT_MS; undefined
   * once it outgrows MAX_ERROR_BODY or that time (what was read is put back, to stream through):
   * a body sent slowly must not keep the browser without an answer.
   */
  private collect(proxyRes: IncomingMessage): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const giveUp = (): void => {
        clearTimeout(late);
        proxyRes.pause();
        proxyRes.off('data', onData);
        if (size > 0) proxyRes.unshift(Buffer.concat(chunks));
        resolve(undefined);
      };
      const onData = (chunk: Buffer): void => {
        chunks.push(chunk);
        size += chunk.length;
        if (size > MAX_ERROR_BODY) giveUp();
      };
      const late = setTimeout(giveUp, this.timeoutMs);
      const done = (): void => {
        clearTimeout(late);
        resolve(Buffer.concat(chunks));
      };
      proxyRes.on('data', onData);
      proxyRes.once('end', done);
      proxyRes.once('error', done);
    });
  }

  private onError(err: Error, req: IncomingMessage): void {
    const call = callOf(req);
    if (!call || call.res.destroyed) return;
    if (this.mayReconnect(call, err)) {
      call.reconnected = true;
      this.metrics.upstreamRetried();
      void this.reconnectHandler(call.req, call.res, () => undefined);
      return;
    }
    const kind = call.timedOut ? 'timeout' : 'unreachable';
    this.metrics.upstreamFailure(kind);
    this.tracing.gatherFailed(call.trace, kind);
    this.logger.warn(
      {
        requestId: call.requestId,
        traceId: call.trace.traceId,
        cause: (err as NodeJS.ErrnoException).code ?? err.name,
      },
      `Gather ${kind}`,
    );
    this.fail(call, new BffError(call.timedOut ? 'GATEWAY_TIMEOUT' : 'BAD_GATEWAY'));
  }

  /**
   * A GET or HEAD whose connection failed before any byte of an answer (refused, reset, or a
   * reused keep-alive connection Gather had closed) is sent once more, on a new connection;
   * never a timeout, never once Gather began answering, never another method (docs/contract.md,
   * "Streaming and retries").
   */
  private mayReconnect(call: Attempt, err: Error): boolean {
    const method = call.req.method;
    if (call.reconnected || call.timedOut || (method !== 'GET' && method !== 'HEAD')) return false;
    if (!UNANSWERED.has((err as NodeJS.ErrnoException).code ?? '')) return false;
    return (call.upstreamSocket?.bytesRead ?? 0) === call.upstreamReadBefore;
  }

  /** The BFF's own answer on the proxied path: the envelope with the proxied security headers. */
  fail(call: ProxyCall, err: BffError, id = call.requestId, timestamp?: string): void {
    const { res } = call;
    if (!res.headersSent) {
      for (const name in this.securityHeaders) res.setHeader(name, this.securityHeaders[name]!);
      // Like every proxied answer, one user's (the envelope adds `Cache-Control: no-store`).
      res.setHeader('Vary', 'Cookie');
      if (call.rateLimits) writeRateLimitFields(res, call.rateLimits);
      // A body left unread cannot be skipped safely: the connection ends with this answer.
      if (!call.req.complete) res.setHeader('Connection', 'close');
    }
    sendError(res, id, err, timestamp);
  }
}
