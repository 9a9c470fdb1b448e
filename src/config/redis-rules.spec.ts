import { join } from 'node:path';
import { redisTopology } from '../redis/redis-topology';
import { ConfigError, loadConfig, type Env } from './load-config';

const CONFIG_DIR = join(__dirname, '..', '..', 'config');
const PASSWORD = 'pw-Kq83vLz0Xr';
const base: Env = {
  GATHER_API_KEY: 'qapi_unitTestKey0123456789',
  SESSION_SECRET: 'Zq3v9N1xK8pW2mR7tY4bL6cH0dF5gJ3s',
};

function problems(env: Env): readonly string[] {
  try {
    loadConfig({ ...base, ...env }, CONFIG_DIR);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const topologyOf = (env: Env) => redisTopology(loadConfig({ ...base, ...env }, CONFIG_DIR).session);

describe('Redis topology settings', () => {
  it('reads REDIS_SENTINELS (trimmed host:port list, IPv6 in brackets) with REDIS_SENTINEL_MASTER', () => {
    expect(
      topologyOf({
        REDIS_SENTINELS: ' s1.internal:26379 , [fd00::7]:26380,10.0.0.3:26381',
        REDIS_SENTINEL_MASTER: 'gather-bff',
        REDIS_PASSWORD: PASSWORD,
      }),
    ).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1.internal', port: 26379 },
        { host: 'fd00::7', port: 26380 },
        { host: '10.0.0.3', port: 26381 },
      ],
      master: 'gather-bff',
      password: PASSWORD,
    });
  });

  it('reads REDIS_CLUSTER_NODES as seeds', () => {
    expect(topologyOf({ REDIS_CLUSTER_NODES: 'c1:7000,c2:7001' })).toEqual({
      kind: 'cluster',
      seeds: [
        { host: 'c1', port: 7000 },
        { host: 'c2', port: 7001 },
      ],
    });
  });

  it('reads REDIS_URL with REDIS_PASSWORD for a URL without one, and nothing without Redis', () => {
    expect(topologyOf({ REDIS_URL: 'rediss://cache:6380/0', REDIS_PASSWORD: PASSWORD })).toEqual({
      kind: 'single',
      url: 'rediss://cache:6380/0',
      password: PASSWORD,
    });
    expect(topologyOf({})).toBeUndefined();
  });

  it.each([
    [
      { REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'c1:7000' },
      'REDIS_URL and REDIS_CLUSTER_NODES',
    ],
    [
      { REDIS_URL: 'redis://a:6379', REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_MASTER: 'm' },
      'REDIS_URL and REDIS_SENTINELS',
    ],
    [
      { REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_MASTER: 'm', REDIS_CLUSTER_NODES: 'c1:7000' },
      'REDIS_SENTINELS and REDIS_CLUSTER_NODES',
    ],
  ])('refuses more than one topology, naming them: %o', (env, named) => {
    expect(problems(env)).toEqual([
      `${named}: set at most one of REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES`,
    ]);
  });

  it('refuses REDIS_SENTINELS without REDIS_SENTINEL_MASTER, and the other way round', () => {
    expect(problems({ REDIS_SENTINELS: 's1:26379' })).toEqual([
      'REDIS_SENTINELS needs REDIS_SENTINEL_MASTER (the name the Sentinels know the master by)',
    ]);
    expect(problems({ REDIS_SENTINEL_MASTER: 'm' })).toEqual([
      'REDIS_SENTINEL_MASTER is only used with REDIS_SENTINELS (the Sentinels to ask)',
    ]);
  });

  it('names the variable and the entry of an address that is not host:port', () => {
    const found = problems({ REDIS_CLUSTER_NODES: 'c1:7000,c2', REDIS_SENTINELS: '' });
    expect(found).toEqual(['REDIS_CLUSTER_NODES (session.redisClusterNodes.1): must be host:port']);
    expect(problems({ REDIS_SENTINELS: 's1:99999', REDIS_SENTINEL_MASTER: 'm' })).toEqual([
      'REDIS_SENTINELS (session.redisSentinels.0): port must be 1 to 65535',
    ]);
  });

  it('refuses REDIS_PASSWORD without a Redis, or next to a password in REDIS_URL, never showing it', () => {
    const alone = problems({ REDIS_PASSWORD: PASSWORD });
    expect(alone).toEqual([
      'REDIS_PASSWORD is set but no Redis is: set REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES',
    ]);
    const twice = problems({ REDIS_URL: `redis://:${PASSWORD}@a:6379`, REDIS_PASSWORD: PASSWORD });
    expect(twice).toEqual(['REDIS_PASSWORD and a password in REDIS_URL: give the password once']);
    expect([...alone, ...twice].join('\n')).not.toContain(PASSWORD);
  });
});
