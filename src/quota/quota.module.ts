import { Global, Module } from '@nestjs/common';
import { CountRider } from '../rate-limit/count-rider';
import { ProxyQuota } from './proxy-quota';

/**
 * Quotas: what each call counts in, riding in the rate limit's count (its counters live in the
 * rate-limit store, Redis when configured, bounded memory otherwise).
 */
@Global()
@Module({
  providers: [ProxyQuota, { provide: CountRider, useExisting: ProxyQuota }],
  exports: [ProxyQuota, CountRider],
})
export class QuotaModule {}
