import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Metrics } from './metrics.service';

/** Times every public request until its response is written; adds one listener, nothing else. */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(@Inject(Metrics) private readonly metrics: Metrics) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const done = this.metrics.httpRequest(req.originalUrl, req.method);
    res.once('finish', () => done(res.statusCode));
    next();
  }
}
