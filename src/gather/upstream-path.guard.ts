import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { assertForwardedMethod, upstreamTarget } from './path-policy';
import './proxy-request';

/** First check on every proxied request (SPEC order: path checks before origin, CSRF, session). */
@Injectable()
export class UpstreamPathGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    assertForwardedMethod(req.method);
    req.gatherTarget = upstreamTarget(req.originalUrl);
    return true;
  }
}
