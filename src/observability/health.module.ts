import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { HealthController } from './health.controller';
import { KeyReadiness } from './key-readiness';

/** The `/healthz` and `/readyz` probes, and the readiness check of the server's key. */
@Module({
  imports: [KeysModule],
  controllers: [HealthController],
  providers: [KeyReadiness],
})
export class HealthModule {}
