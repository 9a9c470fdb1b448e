import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppConfig } from '../config/config.schema';
import { AdminRoutes, type AdminCall } from '../http/admin-routes';
import { BffError } from '../http/error-codes';
import { pageFiles, type PageFile } from './page-files';

/** The paths as one exact pattern, capturing the path: only the page's own files match. */
const exactly = (paths: Iterable<string>): RegExp =>
  new RegExp(`^(${[...paths].map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`);

/**
 * GET /admin/, the operators' page, and the files it loads (docs/contract.md, "The operators'
 * page"), registered as open admin routes: the listener serves them without the bearer token,
 * and every call the page makes back needs the token. The files are read at start-up, and only
 * when the admin routes are on (METRICS_PORT and ADMIN_TOKEN set).
 */
@Injectable()
export class AdminPageRoutes implements OnModuleInit {
  private files: ReadonlyMap<string, PageFile> = new Map();

  constructor(
    @Inject(ConfigService) private readonly config: ConfigService<AppConfig, true>,
    @Optional() @Inject(AdminRoutes) private readonly routes: AdminRoutes | null,
  ) {}

  onModuleInit(): void {
    const { port, adminToken } = this.config.get('metrics', { infer: true });
    if (!this.routes || port === 0 || adminToken === undefined) return;
    this.files = pageFiles();
    const pattern = exactly(this.files.keys());
    const handle = (req: IncomingMessage, res: ServerResponse, call: AdminCall) => {
      this.send(req, res, call);
      return Promise.resolve();
    };
    this.routes.add(
      { method: 'GET', pattern, open: true, handle },
      { method: 'HEAD', pattern, open: true, handle },
    );
  }

  private send(req: IncomingMessage, res: ServerResponse, { params: [path = ''] }: AdminCall) {
    const file = this.files.get(path);
    if (!file) throw new BffError('NOT_FOUND');
    res.writeHead(200, file.headers);
    res.end(req.method === 'HEAD' ? undefined : file.body);
  }
}
