import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Request } from 'express';
import type { AppConfig } from '../config/config.schema';
import { checkRequestOrigin } from './request-origin';

/** Origin and CSRF checks on the Nest routes that change state (`POST /auth/*`). */
@Injectable()
export class RequestOriginGuard implements CanActivate {
  private readonly allowedOrigins: ReadonlySet<string>;

  constructor(@Inject(ConfigService) config: ConfigService<AppConfig, true>) {
    this.allowedOrigins = new Set(config.get('server.allowedOrigins', { infer: true }));
  }

  canActivate(context: ExecutionContext): boolean {
    checkRequestOrigin(context.switchToHttp().getRequest<Request>().headers, this.allowedOrigins);
    return true;
  }
}
