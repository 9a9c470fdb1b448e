import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config/load-config';
import { testEnv } from '../../test/support/start-app';
import { tempDir } from '../../test/support/temp-dir';

const CONFIG_DIR = join(__dirname, '..', '..', 'config');

describe('rate-limit configuration', () => {
  it('defaults: fail closed, no organisation budget, no route rules', () => {
    const { rateLimit } = loadConfig(testEnv(), CONFIG_DIR);
    expect(rateLimit).toEqual({
      user: { limit: 120, windowSeconds: 60 },
      login: { limit: 10, windowSeconds: 60 },
      routes: [],
      redisFailure: 'closed',
      memoryMaxKeys: 100000,
    });
  });

  it('reads RATE_LIMIT_REDIS_FAILURE and GATHER_UPSTREAM_RATE_LIMIT from the environment', () => {
    const { rateLimit } = loadConfig(
      testEnv({ RATE_LIMIT_REDIS_FAILURE: 'OPEN', GATHER_UPSTREAM_RATE_LIMIT: '50' }),
      CONFIG_DIR,
    );
    expect(rateLimit.redisFailure).toBe('open');
    expect(rateLimit.upstreamPerSecond).toBe(50);
  });

  it('refuses to start on values it cannot use, naming the variables', () => {
    const load = () =>
      loadConfig(
        testEnv({ RATE_LIMIT_REDIS_FAILURE: 'sometimes', GATHER_UPSTREAM_RATE_LIMIT: '0' }),
        CONFIG_DIR,
      );
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/RATE_LIMIT_REDIS_FAILURE/);
    expect(load).toThrow(/GATHER_UPSTREAM_RATE_LIMIT/);
  });

  it('reads per-route rules from the YAML, methods upper-cased', async () => {
    const dir = await tempDir('gbff-rl-config-');
    copyFileSync(join(CONFIG_DIR, 'default.yaml'), join(dir, 'default.yaml'));
    writeFileSync(
      join(dir, 'test.yaml'),
      'rateLimit:\n  routes:\n    - { method: post, path: /questions/**, limit: 10, windowSeconds: 60 }\n',
    );
    const { rateLimit } = loadConfig(testEnv(), dir);
    expect(rateLimit.routes).toEqual([
      { method: 'POST', path: '/questions/**', limit: 10, windowSeconds: 60 },
    ]);
  });
});
