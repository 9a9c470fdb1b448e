import type { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../../src/config/config.schema';
import { quotasSchema } from '../../src/config/quotas';
import { Metrics } from '../../src/observability/metrics.service';
import { ProxyQuota } from '../../src/quota/proxy-quota';
import type { MemoryRateLimitStore } from '../../src/rate-limit/memory-rate-limit.store';
import { ProxyRateLimit } from '../../src/rate-limit/proxy-rate-limit';
import { StoreFailurePolicy } from '../../src/rate-limit/store-failure.policy';

/**
 * The proxied path's count with `quotas` riding in it, on `store`, built as the modules build it
 * (without Nest): a per-user limit no test reaches unless `rateLimit` sets one.
 */
export function quotaCounting(
  store: MemoryRateLimitStore,
  quotas: unknown,
  rateLimit: Partial<AppConfig['rateLimit']> = {},
) {
  const values: Partial<AppConfig> = {
    quotas: quotasSchema.parse(quotas),
    rateLimit: {
      user: { limit: 10_000, windowSeconds: 60 },
      login: { limit: 5, windowSeconds: 60 },
      routes: [],
      redisFailure: 'closed',
      memoryMaxKeys: 10_000,
      upstreamPerSecond: undefined,
      ...rateLimit,
    },
  };
  const config = {
    get: (name: keyof AppConfig) => values[name],
  } as unknown as ConfigService<AppConfig, true>;
  const metrics = new Metrics();
  const quota = new ProxyQuota(config, store, metrics);
  const limits = new ProxyRateLimit(config, store, new StoreFailurePolicy(config), quota);
  return { config, limits, quota, metrics };
}
