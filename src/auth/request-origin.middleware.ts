import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { NextFunction, Request, Response } from 'express';
import type { AppConfig } from '../config/config.schema';
import { checkRequestOrigin } from './request-origin';

/**
 * Origin and CSRF checks on the `/auth` routes that change state. A middleware rather than a
 * guard so that it runs ahead of the session middleware: a refused request never reaches the
 * session store, and gets its 403 whatever state the store is in.
 */
@Injectable()
export class RequestOriginMiddleware implements NestMiddleware {
  private readonly allowedOrigins: ReadonlySet<string>;

  constructor(@Inject(ConfigService) config: ConfigService<AppConfig, true>) {
    this.allowedOrigins = new Set(config.get('server.allowedOrigins', { infer: true }));
  }

  use(req: Request, _res: Response, next: NextFunction): void {
    checkRequestOrigin(req.headers, this.allowedOrigins);
    next();
  }
}
