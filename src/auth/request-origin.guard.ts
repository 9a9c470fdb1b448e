import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Request } from 'express';
import type { AppConfig } from '../config/config.schema';
import { BffError } from '../http/error-codes';

/**
 * SPEC's cross-site defences for state-changing routes, in SPEC's order: the origin first
 * (a foreign Origin, or a browser saying `Sec-Fetch-Site: cross-site`), then the `X-CSRF`
 * header, which a cross-site form or simple request cannot send.
 */
@Injectable()
export class RequestOriginGuard implements CanActivate {
  private readonly allowedOrigins: ReadonlySet<string>;

  constructor(@Inject(ConfigService) config: ConfigService<AppConfig, true>) {
    this.allowedOrigins = new Set(config.get('server.allowedOrigins', { infer: true }));
  }

  canActivate(context: ExecutionContext): boolean {
    const { headers } = context.switchToHttp().getRequest<Request>();
    const origin = headers.origin;
    if (origin !== undefined && !this.allowedOrigins.has(origin)) {
      throw new BffError('FORBIDDEN_ORIGIN');
    }
    if (String(headers['sec-fetch-site']).toLowerCase() === 'cross-site') {
      throw new BffError('FORBIDDEN_ORIGIN');
    }
    const csrf = headers['x-csrf'];
    if (typeof csrf !== 'string' || csrf === '') throw new BffError('CSRF_REQUIRED');
    return true;
  }
}
