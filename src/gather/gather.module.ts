import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { GatherController } from './gather.controller';
import { GatherProxy } from './gather-proxy.service';
import { RoutePolicyGuard } from './route-policy.guard';
import { UpstreamPathGuard } from './upstream-path.guard';

/** The proxy to Gather: route policy, header policy, error pass-through and key rotation on 401. */
@Module({
  imports: [KeysModule],
  controllers: [GatherController],
  providers: [GatherProxy, UpstreamPathGuard, RoutePolicyGuard],
})
export class GatherModule {}
