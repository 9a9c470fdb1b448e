import { join } from 'node:path';
import { ConfigError, loadConfig, type Env } from './load-config';
import { configWarnings } from './production-rules';

const CONFIG_DIR = join(__dirname, '..', '..', 'config');
const REAL_KEY = 'qapi_Zq8Kf3NwPb7Rt2Lm9Vc4Hy6Jd1Gs5Xa0';

const production = (env: Env = {}): Env => ({
  APP_ENV: 'production',
  SESSION_SECRET: 'k3J9xQ2mV8pL4wR7tY1uZ6nB5cD0fG3hJ',
  PUBLIC_URL: 'https://gather-bff.acme.io',
  GATHER_API_KEY: REAL_KEY,
  REDIS_URL: 'redis://127.0.0.1:6379',
  ...env,
});

function problemsOf(env: Env): string[] {
  try {
    loadConfig(env, CONFIG_DIR);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('production rules (APP_ENV=production)', () => {
  it('accepts a production configuration with a real-looking key and secure cookies', () => {
    expect(problemsOf(production())).toEqual([]);
  });

  it('refuses a SESSION_SECRET that looks like a placeholder, naming the entry', () => {
    expect(
      problemsOf(
        production({ SESSION_SECRET: `${'a'.repeat(40)},change-me-change-me-change-me-xyz` }),
      ),
    ).toEqual([
      'SESSION_SECRET: looks like a placeholder; generate a random value',
      'SESSION_SECRET (entry 2): looks like a placeholder; generate a random value',
    ]);
  });

  it('refuses COOKIE_SECURE=false even on http://localhost', () => {
    expect(
      problemsOf(production({ COOKIE_SECURE: 'false', PUBLIC_URL: 'http://localhost:3000' })),
    ).toEqual(['COOKIE_SECURE=false is refused when APP_ENV=production, even on localhost']);
  });

  it('still allows COOKIE_SECURE=false on localhost outside production', () => {
    expect(
      problemsOf(
        production({
          APP_ENV: 'development',
          COOKIE_SECURE: 'false',
          PUBLIC_URL: 'http://localhost:3000',
        }),
      ),
    ).toEqual([]);
  });

  it.each([
    'qapi_example0123456789abcdef',
    'qapi_TEST0123456789abcdefghij',
    'qapi_demo_0123456789abcdefgh',
    'qapi_xxxxxxxxxxxxxxxxxxxxxxxx',
    'qapi_changeme0123456789abcdef',
    'qapi_change-me0123456789abcde',
  ])('refuses the example-looking key %s by fingerprint, never by value', (key) => {
    const problems = problemsOf(production({ GATHER_API_KEY: key }));
    expect(problems).toEqual([
      expect.stringMatching(
        /^GATHER_API_KEY looks like an example key \(fingerprint [0-9a-f]{8}\); production needs a key issued by Gather$/,
      ),
    ]);
    expect(problems.join('\n')).not.toContain(key);
  });

  it('checks the read-only key as well', () => {
    expect(
      problemsOf(production({ GATHER_READONLY_API_KEY: 'qapi_demoREADONLY0123456789' })),
    ).toEqual([expect.stringMatching(/^GATHER_READONLY_API_KEY looks like an example key/)]);
  });

  it('accepts example-looking keys outside production (the test suites use one)', () => {
    expect(
      problemsOf(
        production({ APP_ENV: 'staging', GATHER_API_KEY: 'qapi_example0123456789abcdef' }),
      ),
    ).toEqual([]);
  });
});

describe('configWarnings', () => {
  it('warns in production when sessions are held in memory (no REDIS_URL)', () => {
    const config = loadConfig(production({ REDIS_URL: '' }), CONFIG_DIR);
    expect(configWarnings(config)).toEqual([
      'Sessions and rate limits are held in memory (no REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES): each replica has its own, and a restart signs every user out',
    ]);
  });

  it('has nothing to say in production with Redis', () => {
    expect(configWarnings(loadConfig(production(), CONFIG_DIR))).toEqual([]);
  });

  it('has nothing to say in production with Redis Sentinel or Cluster instead of REDIS_URL', () => {
    const sentinel = { REDIS_URL: '', REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_MASTER: 'bff' };
    expect(configWarnings(loadConfig(production(sentinel), CONFIG_DIR))).toEqual([]);
    const cluster = { REDIS_URL: '', REDIS_CLUSTER_NODES: 'c1:6379,c2:6379' };
    expect(configWarnings(loadConfig(production(cluster), CONFIG_DIR))).toEqual([]);
  });

  it('warns outside production about a SESSION_SECRET that looks like a placeholder', () => {
    const config = loadConfig(
      production({ APP_ENV: 'development', SESSION_SECRET: 'x'.repeat(32) }),
      CONFIG_DIR,
    );
    expect(configWarnings(config)).toEqual([
      'SESSION_SECRET looks like a placeholder: fine for a test, refused with APP_ENV=production',
    ]);
  });

  it('has nothing to say outside production, where memory sessions are the normal case', () => {
    expect(
      configWarnings(loadConfig(production({ APP_ENV: 'development', REDIS_URL: '' }), CONFIG_DIR)),
    ).toEqual([]);
  });
});
