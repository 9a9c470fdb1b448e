import { Module } from '@nestjs/common';
import { HealthController } from './health.controller';

/** The `/healthz` and `/readyz` probes; each module registers its own readiness checks. */
@Module({ controllers: [HealthController] })
export class HealthModule {}
