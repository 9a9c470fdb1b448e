import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test/support/temp-dir';
import { fingerprint } from './key-format';
import { ConfigError, loadConfig, type Env } from './load-config';

const CONFIG_DIR = join(__dirname, '..', '..', 'config');
const KEY = 'qapi_unitTestKey0123456789';
const SECRET = 'Zq3v9N1xK8pW2mR7tY4bL6cH0dF5gJ3s';

const base: Env = { GATHER_API_KEY: KEY, SESSION_SECRET: SECRET };

function problems(env: Env, dir = CONFIG_DIR): readonly string[] {
  try {
    loadConfig(env, dir);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(base, CONFIG_DIR);
    expect(c.appEnv).toBe('development');
    expect(c.server).toEqual({
      port: 3000,
      host: '0.0.0.0',
      publicUrl: 'http://localhost:3000',
      allowedOrigins: ['http://localhost:3000'],
      trustProxy: false,
      shutdownGraceSeconds: 25,
    });
    expect(c.gather.baseUrl).toBe('https://api.prod.qualifi.hr/qsi/gather');
    expect(c.gather.timeoutMs).toBe(30000);
    expect(c.gather.keyRefreshSeconds).toBe(300);
    expect(c.proxy.maxBodyBytes).toBe(1048576);
    expect(c.proxy.allow.map((r) => r.method)).toEqual([
      'GET',
      'HEAD',
      'POST',
      'PUT',
      'PATCH',
      'DELETE',
    ]);
    expect(c.session).toMatchObject({
      secrets: [SECRET],
      idleTimeoutSeconds: 1800,
      absoluteTimeoutSeconds: 28800,
      maxPerUser: 20,
      cookieSecure: true,
      cookieSameSite: 'strict',
    });
    expect(c.rateLimit.user).toEqual({ limit: 120, windowSeconds: 60 });
    expect(c.rateLimit.login).toEqual({ limit: 10, windowSeconds: 60 });
    expect(c.metrics.port).toBe(9464);
    expect(c.log.level).toBe('info');
    expect(c.gather.apiKey).toEqual({ kind: 'value', name: 'GATHER_API_KEY', value: KEY });
  });

  it('lets the environment win over the YAML files and parses its values', () => {
    const c = loadConfig(
      {
        ...base,
        PORT: '8080',
        ALLOWED_ORIGINS: 'https://a.example, https://b.example',
        TRUST_PROXY: '10.0.0.0/8,loopback',
        COOKIE_SAMESITE: 'Lax',
        SESSION_SECRET: `${SECRET},${SECRET.toLowerCase()}`,
        PUBLIC_URL: 'https://app.example',
        SHUTDOWN_GRACE_SECONDS: '5',
      },
      CONFIG_DIR,
    );
    expect(c.server.port).toBe(8080);
    expect(c.server.shutdownGraceSeconds).toBe(5);
    expect(c.server.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(c.server.trustProxy).toEqual(['10.0.0.0/8', 'loopback']);
    expect(c.session.cookieSameSite).toBe('lax');
    expect(c.session.secrets).toHaveLength(2);
    expect(loadConfig({ ...base, TRUST_PROXY: '2' }, CONFIG_DIR).server.trustProxy).toBe(2);
  });

  it('reads config/<APP_ENV>.yaml over config/default.yaml', async () => {
    const dir = await tempDir('cfg-');
    writeFileSync(join(dir, 'default.yaml'), 'server: { port: 1111, host: 127.0.0.1 }\n');
    writeFileSync(join(dir, 'qa.yaml'), 'server: { port: 2222 }\n');
    writeFileSync(join(dir, 'qa.yaml'), 'session: { idleTimeoutSeconds: 60 }\n');
    const defaults = loadConfig(base, CONFIG_DIR);
    expect(loadConfig({ ...base, APP_ENV: 'test' }, CONFIG_DIR).log.level).toBe('silent');
    expect(defaults.log.level).toBe('info');
    // A file replaces only what it names; the environment still wins over both.
    expect(() => loadConfig({ ...base, APP_ENV: 'qa' }, dir)).toThrow(ConfigError);
  });

  it('lists every problem in one error, naming the variables', () => {
    const found = problems({
      SESSION_SECRET: 'short',
      GATHER_API_KEY: 'not-a-key',
      GATHER_API_KEY_FILE: '/run/secrets/k',
      PORT: 'eighty',
      TRUST_PROXY: 'true',
      COOKIE_SAMESITE: 'none',
    });
    const text = found.join('\n');
    expect(text).toContain('SESSION_SECRET: must be at least 32 characters');
    expect(text).toContain('more than one source for the Gather API key');
    expect(text).toContain('GATHER_API_KEY, GATHER_API_KEY_FILE, GATHER_API_KEY_REF');
    expect(text).toContain('PORT (server.port)');
    expect(text).toContain('TRUST_PROXY=true');
    expect(text).toContain('COOKIE_SAMESITE (session.cookieSameSite)');
    expect(found.length).toBeGreaterThanOrEqual(5);
  });

  it('reads proxy.forwardHeaders lower-cased, and refuses every dangerous or malformed name together', async () => {
    const dir = await tempDir('cfg-');
    writeFileSync(join(dir, 'default.yaml'), readFileSync(join(CONFIG_DIR, 'default.yaml')));
    writeFileSync(join(dir, 'ok.yaml'), 'proxy: { forwardHeaders: [X-Tenant-Hint] }\n');
    writeFileSync(
      join(dir, 'bad.yaml'),
      'proxy: { forwardHeaders: [X-Tenant-Hint, Cookie, X-Forwarded-User, "x tenant"] }\n',
    );
    expect(loadConfig(base, CONFIG_DIR).proxy.forwardHeaders).toEqual([]);
    expect(loadConfig({ ...base, APP_ENV: 'ok' }, dir).proxy.forwardHeaders).toEqual([
      'x-tenant-hint',
    ]);
    expect(problems({ ...base, APP_ENV: 'bad' }, dir)).toEqual([
      'proxy.forwardHeaders.1: "Cookie" is never forwarded to Gather (a credential)',
      'proxy.forwardHeaders.2: "X-Forwarded-User" is never forwarded to Gather (x-forwarded-*: it would let the browser choose routing, method or identity upstream)',
      'proxy.forwardHeaders.3: "x tenant" is not a header name',
    ]);
  });

  it('refuses a GATHER_BASE_URL with a query or fragment (paths are appended to it)', () => {
    for (const url of ['https://gather.example/qsi?tenant=a', 'https://gather.example/qsi#x']) {
      expect(problems({ ...base, GATHER_BASE_URL: url })).toEqual([
        'GATHER_BASE_URL (gather.baseUrl): must have no query or fragment',
      ]);
    }
    expect(problems({ ...base, GATHER_BASE_URL: 'https://gather.example/qsi/' })).toEqual([]);
  });

  it('refuses a missing or short SESSION_SECRET; a placeholder only in production', () => {
    expect(problems({ GATHER_API_KEY: KEY })).toContain(
      'SESSION_SECRET: required (32 or more random characters)',
    );
    expect(problems({ ...base, SESSION_SECRET: 'a'.repeat(31) })).toEqual([
      'SESSION_SECRET: must be at least 32 characters',
    ]);
    for (const secret of ['change-me-change-me-change-me-change-me', 'a'.repeat(40)]) {
      expect(problems({ ...base, SESSION_SECRET: secret })).toEqual([]);
    }
  });

  it('refuses no key source, naming the three options', () => {
    expect(problems({ SESSION_SECRET: SECRET })).toEqual([
      'no source for the Gather API key: set exactly one of GATHER_API_KEY, GATHER_API_KEY_FILE, GATHER_API_KEY_REF',
    ]);
  });

  it('names a malformed key by fingerprint only', () => {
    const bad = 'qapi_short';
    const found = problems({ ...base, GATHER_API_KEY: bad }).join('\n');
    expect(found).toContain(fingerprint(bad));
    expect(found).not.toContain(bad);
  });

  it('refuses COOKIE_SECURE=false unless PUBLIC_URL is http://localhost or http://127.0.0.1', () => {
    expect(
      problems({ ...base, COOKIE_SECURE: 'false', PUBLIC_URL: 'https://app.example' }),
    ).toEqual([
      'COOKIE_SECURE=false is only allowed with a PUBLIC_URL of http://localhost or http://127.0.0.1',
    ]);
    expect(
      problems({ ...base, COOKIE_SECURE: 'false', PUBLIC_URL: 'http://127.0.0.1:8080' }),
    ).toEqual([]);
  });

  it('refuses an allowed origin that is not an origin', () => {
    expect(problems({ ...base, ALLOWED_ORIGINS: 'https://a.example/path' })).toEqual([
      'ALLOWED_ORIGINS: "https://a.example/path" is not an origin (scheme://host[:port])',
    ]);
  });
  it('refuses malformed quotas at start, every problem in the one message', async () => {
    const dir = await tempDir('quota-config-');
    writeFileSync(join(dir, 'default.yaml'), readFileSync(join(CONFIG_DIR, 'default.yaml')));
    writeFileSync(
      join(dir, 'bad.yaml'),
      [
        'quotas:',
        '  user: { day: -1, week: 10 }',
        '  team: { month: 2.5 }',
        '  users: { alice: { day: "many" } }',
        '  monthStartDay: 31',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'zero.yaml'), 'quotas: { monthStartDay: 0 }\n');
    writeFileSync(
      join(dir, 'ok.yaml'),
      'quotas: { user: { day: 5 }, teams: { red: { month: 9 } }, monthStartDay: 28 }\n',
    );
    expect(problems({ ...base, APP_ENV: 'bad' }, dir)).toEqual([
      'quotas.user.day: Too small: expected number to be >=0',
      'quotas.user: Unrecognized key: "week"',
      'quotas.team.month: Invalid input: expected int, received number',
      'quotas.users.alice.day: Invalid input: expected number, received string',
      'quotas.monthStartDay: Too big: expected number to be <=28',
    ]);
    expect(problems({ ...base, APP_ENV: 'zero' }, dir)).toEqual([
      'quotas.monthStartDay: Too small: expected number to be >=1',
    ]);
    expect(loadConfig({ ...base, APP_ENV: 'ok' }, dir).quotas).toEqual({
      user: { day: 5 },
      team: {},
      users: {},
      teams: { red: { month: 9 } },
      monthStartDay: 28,
    });
    expect(loadConfig(base, CONFIG_DIR).usage).toEqual({ retentionDays: 90 });
    expect(problems({ ...base, USAGE_RETENTION_DAYS: '0' })).toEqual([
      'USAGE_RETENTION_DAYS (usage.retentionDays): Too small: expected number to be >=1',
    ]);
  });
});
