import { Controller, Get, Inject, Req } from '@nestjs/common';
import type { Request } from 'express';
import { BffError } from '../http/error-codes';
import { SessionService } from '../session/session.service';
import { UsageReport, type OwnUsage } from './usage-report';

/**
 * GET /auth/usage: the signed-in user's own usage and quotas (docs/contract.md, Routes); the
 * global session guard refuses it without a session.
 */
@Controller('auth')
export class UsageController {
  constructor(
    @Inject(SessionService) private readonly sessions: SessionService,
    @Inject(UsageReport) private readonly report: UsageReport,
  ) {}

  @Get('usage')
  async usage(@Req() req: Request): Promise<OwnUsage> {
    const user = this.sessions.currentUser(req);
    if (!user) throw new BffError('UNAUTHORIZED');
    return this.report.own(user.principal, user.team);
  }
}
