import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Request } from 'express';
import type { AppConfig } from '../config/config.schema';
import { BffError } from '../http/error-codes';
import { GatherKeys } from '../keys/gather-keys.service';
import { compileRules, type RouteMatcher } from './allow-list';
import './proxy-request';

/**
 * After the session is known: the method/path allow-list, then which key this user's request
 * carries (a team without a key is refused here when teams are required).
 */
@Injectable()
export class RoutePolicyGuard implements CanActivate {
  private readonly allow: RouteMatcher;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(GatherKeys) private readonly keys: GatherKeys,
  ) {
    this.allow = compileRules(config.get('proxy', { infer: true }).allow);
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const target = req.gatherTarget;
    if (!target || !this.allow.matches(req.method, target.path)) {
      throw new BffError('ROUTE_NOT_ALLOWED', `${req.method} ${target?.path ?? ''} is not allowed`);
    }
    req.gatherKey = this.keys.keyFor({ method: req.method, team: req.user?.team });
    return true;
  }
}
