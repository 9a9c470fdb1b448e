import { Controller, Get, Header, Inject } from '@nestjs/common';
import { BffError } from '../http/error-codes';
import { Public } from '../http/route-declarations';
import { Readiness } from '../http/readiness';

/** Liveness and readiness probes (docs/contract.md, "Health and metrics"). */
@Controller()
@Public()
export class HealthController {
  constructor(@Inject(Readiness) private readonly readiness: Readiness) {}

  /** Alive as long as the process answers: no store, session or upstream is consulted. */
  @Get('healthz')
  @Header('Cache-Control', 'no-store')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @Header('Cache-Control', 'no-store')
  async readyz(): Promise<{ status: 'ok' }> {
    if (this.readiness.shuttingDown) throw new BffError('SERVICE_UNAVAILABLE', 'Shutting down');
    const failing = await this.readiness.failing();
    if (failing.length > 0) throw new BffError('SERVICE_UNAVAILABLE', 'Not ready', { failing });
    return { status: 'ok' };
  }
}
