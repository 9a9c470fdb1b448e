import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from '../config/config.schema';
import { BffError } from '../http/error-codes';
import { sendError } from '../http/envelope';
import { assignRequestId } from '../http/request-id';
import { Metrics } from './metrics.service';

/**
 * `/metrics` on its own listener (`METRICS_PORT`, on the public listener's host), so the public
 * port never exposes it. Port 0 turns it off. Started with the application, closed on shutdown.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsServer.name);
  private readonly port: number;
  private readonly host: string;
  private server: Server | undefined;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {
    this.port = config.get('metrics', { infer: true }).port;
    this.host = config.get('server', { infer: true }).host;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.port === 0) return;
    const server = createServer((req, res) => void this.handle(req, res));
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
    const path = (req.url ?? '').split('?')[0];
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
}
