import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from '../config/config.schema';
import { BffError } from '../http/error-codes';
import { sendError } from '../http/envelope';
import { assignRequestId } from '../http/request-id';
import { installServerErrorHooks, refusedAtTheDoor } from '../http/server-hooks';
import { AdminUsageRoutes } from '../usage/admin-usage.routes';
import { AdminSessions } from './admin-sessions';
import { Metrics } from './metrics.service';

/** `/admin/users/<userId>/sessions`, the user id percent-encoded as one segment. */
const ADMIN_SESSIONS_PATH = /^\/admin\/users\/([^/]+)\/sessions$/;

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * `/metrics` on its own listener (`METRICS_PORT`, on the public listener's host), so the public
 * port never exposes it. Port 0 turns it off. Started with the application, closed on shutdown.
 * The admin routes live here too, for the same reason, and only while ADMIN_TOKEN is set
 * (docs/contract.md, Routes).
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsServer.name);
  private readonly port: number;
  private readonly host: string;
  private server: Server | undefined;
  /** SHA-256 of ADMIN_TOKEN: compared in constant time whatever the length presented. */
  private readonly adminTokenDigest: Buffer | undefined;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(Metrics) private readonly metrics: Metrics,
    @Optional() @Inject(AdminSessions) private readonly admin: AdminSessions | null,
    @Optional() @Inject(AdminUsageRoutes) private readonly usage: AdminUsageRoutes | null,
  ) {
    const settings = config.get('metrics', { infer: true });
    this.port = settings.port;
    this.host = config.get('server', { infer: true }).host;
    this.adminTokenDigest =
      settings.adminToken === undefined ? undefined : digest(settings.adminToken);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.port === 0) return;
    const server = createServer((req, res) => {
      if (!refusedAtTheDoor(req, res)) void this.handle(req, res);
    });
    // The same envelope as the public listener for what Node itself refuses.
    installServerErrorHooks(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.logger.log({ host: this.host, port: this.port }, 'metrics listening');
  }

  /** Where the listener is bound; undefined when metrics are off. */
  address(): AddressInfo | undefined {
    return (this.server?.address() as AddressInfo | null) ?? undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // A scraper's keep-alive connection would otherwise hold shutdown open.
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = assignRequestId(req, res);
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (path.startsWith('/admin/')) return this.handleAdmin(req, res, id, path);
    if (path !== '/metrics') return sendError(res, id, new BffError('NOT_FOUND'));
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendError(
        res,
        id,
        new BffError('METHOD_NOT_ALLOWED', undefined, undefined, { Allow: 'GET, HEAD' }),
      );
    }
    try {
      const body = await this.metrics.text();
      res.statusCode = 200;
      res.setHeader('Content-Type', this.metrics.contentType);
      res.setHeader('Content-Length', Buffer.byteLength(body));
      res.setHeader('Cache-Control', 'no-store');
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      this.logger.error({ err, requestId: id }, 'metrics collection failed');
      sendError(res, id, new BffError('INTERNAL_ERROR'));
    }
  }

  private async handleAdmin(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    path: string,
  ): Promise<void> {
    if (this.adminTokenDigest === undefined || !this.admin) {
      return sendError(res, id, new BffError('NOT_FOUND'));
    }
    if (!this.authorised(req.headers.authorization)) {
      return sendError(
        res,
        id,
        new BffError('UNAUTHORIZED', 'A valid admin bearer token is required', undefined, {
          'WWW-Authenticate': 'Bearer',
        }),
      );
    }
    try {
      if (await this.usage?.handle(req, res, path)) return;
      const encoded = ADMIN_SESSIONS_PATH.exec(path)?.[1];
      let userId: string | undefined;
      try {
        userId = encoded === undefined ? undefined : decodeURIComponent(encoded);
      } catch {
        userId = undefined;
      }
      if (userId === undefined) return sendError(res, id, new BffError('NOT_FOUND'));
      if (req.method === 'GET') {
        return sendJson(res, { sessions: await this.admin.list(userId) });
      }
      if (req.method === 'DELETE') {
        return sendJson(res, { ended: await this.admin.endAll(userId, id) });
      }
      return sendError(
        res,
        id,
        new BffError('METHOD_NOT_ALLOWED', undefined, undefined, { Allow: 'GET, DELETE' }),
      );
    } catch (err) {
      if (err instanceof BffError) return sendError(res, id, err);
      this.logger.error({ err, requestId: id }, 'admin request failed');
      sendError(res, id, new BffError('INTERNAL_ERROR'));
    }
  }

  /** Whether `header` is `Bearer <ADMIN_TOKEN>`, compared without leaking where it differs. */
  private authorised(header: string | undefined): boolean {
    const match = /^Bearer (.+)$/i.exec(header ?? '');
    const expected = this.adminTokenDigest as Buffer;
    return match !== null && timingSafeEqual(digest(match[1] as string), expected);
  }
}

function sendJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('Cache-Control', 'no-store');
  res.end(text);
}
