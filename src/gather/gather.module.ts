import { Module } from '@nestjs/common';
import { PausesModule } from '../capacity/pauses.module';
import { KeysModule } from '../keys/keys.module';
import { GatherForwarder } from './gather-forwarder';
import { ProxyPipeline } from './proxy-pipeline';

/**
 * The proxy to Gather: the `/api/gather/*` pipeline (path, origin, session, allow-list, rate
 * limit, body) and the forwarder behind it (header policy, error pass-through, key rotation on
 * 401). Mounted ahead of Express by the bootstrap, not as a controller.
 */
@Module({
  imports: [KeysModule, PausesModule],
  providers: [GatherForwarder, ProxyPipeline],
  exports: [ProxyPipeline],
})
export class GatherModule {}
