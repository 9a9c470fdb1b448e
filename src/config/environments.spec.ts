import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type Env } from './load-config';

const CONFIG_DIR = join(__dirname, '..', '..', 'config');

const ENV: Env = {
  SESSION_SECRET: 'k3J9xQ2mV8pL4wR7tY1uZ6nB5cD0fG3hJ',
  PUBLIC_URL: 'https://gather-bff.acme.io',
  GATHER_API_KEY_REF: 'aws-sm:gather/api-key',
  REDIS_URL: 'redis://127.0.0.1:6379',
};

describe('config/<APP_ENV>.yaml', () => {
  it.each([
    ['development', 'https://gather-bff.acme.io'],
    // test.yaml turns Secure cookies off, which only loopback allows.
    ['test', 'http://localhost:3000'],
    ['staging', 'https://gather-bff.acme.io'],
    ['production', 'https://gather-bff.acme.io'],
  ])('%s.yaml loads', (appEnv, publicUrl) => {
    const config = loadConfig({ ...ENV, APP_ENV: appEnv, PUBLIC_URL: publicUrl }, CONFIG_DIR);
    expect(config.appEnv).toBe(appEnv);
    expect(config.gather.apiKey).toEqual({
      kind: 'ref',
      name: 'GATHER_API_KEY_REF',
      ref: 'aws-sm:gather/api-key',
      secret: { kind: 'aws-sm', secretId: 'gather/api-key', field: undefined },
    });
  });

  it.each(['staging', 'production'])('%s.yaml keeps secure cookies', (appEnv) => {
    expect(loadConfig({ ...ENV, APP_ENV: appEnv }, CONFIG_DIR).session.cookieSecure).toBe(true);
  });

  it('no YAML file holds a key value or a Vault token, not even in a comment', () => {
    for (const name of readdirSync(CONFIG_DIR).filter((f) => f.endsWith('.yaml'))) {
      const text = readFileSync(join(CONFIG_DIR, name), 'utf8');
      expect({ name, key: /qapi_/.test(text), token: /\bhv[sbr]\.\w/.test(text) }).toEqual({
        name,
        key: false,
        token: false,
      });
    }
  });
});
