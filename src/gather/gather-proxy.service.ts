import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Request, Response } from 'express';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
import { Agent as HttpAgent, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { AppConfig } from '../config/config.schema';
import { BffError } from '../http/error-codes';
import { sendError } from '../http/envelope';
import { assignRequestId } from '../http/request-id';
import { GatherKeys, type HeldKey } from '../keys/gather-keys.service';
import { Metrics } from '../observability/metrics.service';
import { readGatherError } from './gather-error-body';
import { headersToBrowser, headersToGather } from './header-policy';
import { readBody } from './request-body';
import './proxy-request';

/** One browser request's dealings with Gather, kept while it is in flight. */
interface Exchange {
  readonly requestId: string;
  readonly body: Buffer | undefined;
  key: HeldKey;
  timedOut: boolean;
  retried: boolean;
}

/** Error bodies are read whole (to find Gather's requestId); past this they stream through. */
const MAX_ERROR_BODY = 256 * 1024;

/**
 * Forwards a checked request to Gather with http-proxy-middleware and answers the browser.
 * Responses are handled here rather than by the library so that the header policy, the error
 * pass-through and the 401 → reload → retry rule each live in one place.
 */
@Injectable()
export class GatherProxy implements OnModuleDestroy {
  private readonly logger = new Logger(GatherProxy.name);
  private readonly exchanges = new WeakMap<IncomingMessage, Exchange>();
  private readonly agent: HttpAgent;
  private readonly handler: RequestHandler<Request, Response>;
  private readonly publicHost: string;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(GatherKeys) private readonly keys: GatherKeys,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {
    const gather = config.get('gather', { infer: true });
    this.timeoutMs = gather.timeoutMs;
    this.maxBodyBytes = config.get('proxy', { infer: true }).maxBodyBytes;
    this.publicHost = new URL(config.get('server', { infer: true }).publicUrl).host;
    // One keep-alive pool to Gather for the whole process; LIFO keeps the warm sockets busy.
    const agentOptions = { keepAlive: true, scheduling: 'lifo' as const };
    this.agent = gather.baseUrl.startsWith('https:')
      ? new HttpsAgent(agentOptions)
      : new HttpAgent(agentOptions);
    this.handler = createProxyMiddleware<Request, Response>({
      target: gather.baseUrl,
      changeOrigin: true,
      agent: this.agent,
      selfHandleResponse: true,
      // The library's own plugins answer errors in plain text; ours subscribes the handlers instead.
      ejectPlugins: true,
      plugins: [
        (server) => {
          server.on('proxyReq', (proxyReq, req) => this.onProxyReq(proxyReq, req));
          server.on('proxyRes', (proxyRes, req, res) => this.onProxyRes(proxyRes, req, res));
          server.on('error', (err, req, res) => req && this.onError(err, req, res as Response));
        },
      ],
    });
  }

  /** Called once the guards have passed: `req.gatherTarget` and `req.gatherKey` are set. */
  async forward(req: Request, res: Response): Promise<void> {
    const target = req.gatherTarget;
    const key = req.gatherKey;
    if (!target || !key) throw new BffError('INTERNAL_ERROR');
    const body = await readBody(req, this.maxBodyBytes);
    const requestId = assignRequestId(req, res);
    // Read before the headers are replaced: both follow X-Forwarded-* under `trust proxy`.
    const clientIp = req.ip ?? req.socket.remoteAddress ?? '';
    const proto = req.protocol;
    req.headers = headersToGather(req.headers, {
      apiKey: key.value,
      requestId,
      clientIp,
      proto,
      publicHost: this.publicHost,
      bodyLength: body?.length,
    }) as Request['headers'];
    req.url = target.path + target.search;
    const exchange: Exchange = { requestId, body, key, timedOut: false, retried: false };
    this.exchanges.set(req, exchange);
    this.send(req, res);
  }

  onModuleDestroy(): void {
    this.agent.destroy();
  }

  private send(req: Request, res: Response): void {
    void this.handler(req, res, () => undefined);
  }

  private onProxyReq(proxyReq: ClientRequest, req: Request): void {
    const exchange = this.exchanges.get(req);
    if (!exchange) return;
    // The socket's idle timer covers both the wait for headers and any pause inside the body.
    proxyReq.setTimeout(this.timeoutMs, () => {
      exchange.timedOut = true;
      proxyReq.destroy();
    });
    // The browser's stream was already read into `body`; piping the ended stream only ends proxyReq.
    if (exchange.body && exchange.body.length > 0) proxyReq.write(exchange.body);
  }

  private onProxyRes(proxyRes: IncomingMessage, req: Request, res: Response): void {
    const exchange = this.exchanges.get(req);
    if (!exchange) return;
    const status = proxyRes.statusCode ?? 502;
    this.metrics.upstreamResponse(exchange.key.fingerprint, status);
    const headerId = proxyRes.headers['x-request-id'];
    const gatherId = typeof headerId === 'string' && headerId !== '' ? headerId : undefined;
    if (status < 400) {
      res.locals.gatherRequestId = gatherId;
      res.setHeader('X-Request-Id', gatherId ?? exchange.requestId);
      res.writeHead(status, headersToBrowser(proxyRes.headers));
      proxyRes.pipe(res);
      return;
    }
    void this.collect(proxyRes).then((body) => {
      if (res.destroyed) return;
      if (body === undefined)
        return this.passThrough(proxyRes, res, status, gatherId ?? exchange.requestId);
      if (status === 401) return this.onRejected(req, res, exchange, body, gatherId);
      const meta = readGatherError(body);
      const id = meta.requestId ?? gatherId ?? exchange.requestId;
      res.locals.gatherRequestId = id;
      res.setHeader('X-Request-Id', id);
      res.setHeader('Content-Length', body.length);
      res.writeHead(status, headersToBrowser(proxyRes.headers));
      res.end(body);
    });
  }

  /**
   * Gather refused the server's key. Reload it once (shared with concurrent requests) and, if it
   * changed, replay the request; otherwise tell the browser it is the server's key, not its session.
   */
  private async onRejected(
    req: Request,
    res: Response,
    exchange: Exchange,
    body: Buffer,
    gatherId: string | undefined,
  ): Promise<void> {
    if (!exchange.retried) {
      exchange.retried = true;
      const fresh = await this.keys.reloadAfterRejection(exchange.key).catch(() => undefined);
      if (fresh && !res.destroyed) {
        exchange.key = fresh;
        req.headers['x-api-key'] = fresh.value;
        this.send(req, res);
        return;
      }
    }
    const meta = readGatherError(body);
    const id = meta.requestId ?? gatherId ?? exchange.requestId;
    res.locals.gatherRequestId = id;
    const details: Record<string, unknown> = { upstreamStatus: 401 };
    if (meta.code) details.upstreamCode = meta.code;
    this.logger.warn(
      { key: exchange.key.fingerprint, gatherRequestId: id },
      'Gather rejected the key',
    );
    sendError(res, id, new BffError('UPSTREAM_UNAUTHORIZED', undefined, details), meta.timestamp);
  }

  /** Reads an error body whole when it is small; undefined once it outgrows MAX_ERROR_BODY. */
  private collect(proxyRes: IncomingMessage): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer): void => {
        chunks.push(chunk);
        size += chunk.length;
        if (size > MAX_ERROR_BODY) {
          proxyRes.pause();
          proxyRes.off('data', onData);
          proxyRes.unshift(Buffer.concat(chunks));
          resolve(undefined);
        }
      };
      proxyRes.on('data', onData);
      proxyRes.once('end', () => resolve(Buffer.concat(chunks)));
    });
  }

  private passThrough(proxyRes: IncomingMessage, res: Response, status: number, id: string): void {
    res.setHeader('X-Request-Id', id);
    res.writeHead(status, headersToBrowser(proxyRes.headers));
    proxyRes.pipe(res);
    proxyRes.resume();
  }

  private onError(err: Error, req: Request, res: Response): void {
    const exchange = this.exchanges.get(req);
    if (!exchange || res.destroyed || typeof res.setHeader !== 'function') return;
    const kind = exchange.timedOut ? 'timeout' : 'unreachable';
    this.metrics.upstreamFailure(kind);
    this.logger.warn(
      { requestId: exchange.requestId, cause: (err as NodeJS.ErrnoException).code ?? err.name },
      `Gather ${kind}`,
    );
    sendError(
      res,
      exchange.requestId,
      new BffError(exchange.timedOut ? 'GATEWAY_TIMEOUT' : 'BAD_GATEWAY'),
    );
  }
}
