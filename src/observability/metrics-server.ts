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
import { AdminRoutes } from '../http/admin-routes';
import { BffError } from '../http/error-codes';
import { sendError } from '../http/envelope';
import { assignRequestId } from '../http/request-id';
import { installServerErrorHooks, refusedAtTheDoor } from '../http/server-hooks';
import { Metrics } from './metrics.service';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * `/metrics` on its own listener (`METRICS_PORT`, on the public listener's host), so the public
 * port never exposes it. Port 0 turns it off. Started with the application, closed on shutdown.
 * The admin routes the modules register in `AdminRoutes` are mounted here too, for the same
 * reason, behind one bearer check, and only while ADMIN_TOKEN is set (docs/contract.md, Routes).
 * Only routes registered as open (the operators' page and its files, no data) skip the check.
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
    @Optional() @Inject(AdminRoutes) private readonly admin: AdminRoutes | null,
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
    if (this.adminTokenDigest === undefined || !this.admin || this.admin.empty) {
      return sendError(res, id, new BffError('NOT_FOUND'));
    }
    const match = this.admin.match(req.method, path);
    // The operators' page and its files hold no data; everything else needs the token first.
    if (!(match.found && match.open) && !this.authorised(req.headers.authorization)) {
      return sendError(
        res,
        id,
        new BffError('UNAUTHORIZED', 'A valid admin bearer token is required', undefined, {
          'WWW-Authenticate': 'Bearer',
        }),
      );
    }
    if (!match.found) return sendError(res, id, new BffError('NOT_FOUND'));
    if (!match.route) {
      return sendError(
        res,
        id,
        new BffError('METHOD_NOT_ALLOWED', undefined, undefined, { Allow: match.allow }),
      );
    }
    try {
      await match.route.handle(req, res, { params: match.params, requestId: id });
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
