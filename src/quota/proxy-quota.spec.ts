import type { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import { quotasSchema } from '../config/quotas';
import { BffError } from '../http/error-codes';
import { StoreFailurePolicy } from '../rate-limit/store-failure.policy';
import type { RateLimitItems } from '../capacity/rate-limit-fields';
import { ProxyQuota } from './proxy-quota';
import { QuotaStore, type QuotaTake, type QuotaUse } from './quota.store';

/** A store whose server does not answer. */
class DownStore extends QuotaStore {
  take(): Promise<QuotaTake> {
    return Promise.reject(new Error('Redis did not answer within 1000 ms'));
  }
  read(): Promise<QuotaUse[]> {
    return Promise.reject(new Error('Redis did not answer within 1000 ms'));
  }
}

function proxyQuota(redisFailure: 'open' | 'closed'): ProxyQuota {
  const values: Partial<AppConfig> = {
    quotas: quotasSchema.parse({ user: { day: 5 } }),
    rateLimit: { redisFailure } as AppConfig['rateLimit'],
  };
  const config = {
    get: (name: keyof AppConfig) => values[name],
  } as unknown as ConfigService<AppConfig, true>;
  return new ProxyQuota(config, new DownStore(), new StoreFailurePolicy(config));
}

describe('ProxyQuota with its store down (RATE_LIMIT_REDIS_FAILURE)', () => {
  it('closed: 503 SERVICE_UNAVAILABLE', async () => {
    const into: RateLimitItems = {};
    const refusal = await proxyQuota('closed')
      .count(into, 'local:ada', undefined)
      .catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(BffError);
    expect((refusal as BffError).code).toBe('SERVICE_UNAVAILABLE');
  });

  it('open: the call passes uncounted', async () => {
    const into: RateLimitItems = {};
    await expect(proxyQuota('open').count(into, 'local:ada', undefined)).resolves.toBeUndefined();
    expect(into.rateLimits).toBeUndefined();
  });
});
