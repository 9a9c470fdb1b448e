import { All, Controller, Inject, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { RequestOriginGuard } from '../auth/request-origin.guard';
import { SessionGuard } from '../auth/session.guard';
import { UpstreamBudgetGuard } from '../rate-limit/upstream-budget.guard';
import { UserRateLimitGuard } from '../rate-limit/user-rate-limit.guard';
import { GatherProxy } from './gather-proxy.service';
import { RoutePolicyGuard } from './route-policy.guard';
import { UpstreamPathGuard } from './upstream-path.guard';

/**
 * `ANY /api/gather/<path>`. The guards run in SPEC's order — path, origin, CSRF, session,
 * allow-list, rate limit — so the first failing check is the one that answers.
 */
@Controller('api/gather')
@UseGuards(
  UpstreamPathGuard,
  RequestOriginGuard,
  SessionGuard,
  RoutePolicyGuard,
  UserRateLimitGuard,
  UpstreamBudgetGuard,
)
export class GatherController {
  constructor(@Inject(GatherProxy) private readonly proxy: GatherProxy) {}

  @All('*path')
  forward(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.proxy.forward(req, res);
  }
}
