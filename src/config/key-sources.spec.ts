import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, type Env } from './load-config';

const BASE: Env = {
  APP_ENV: 'test',
  SESSION_SECRET: 'k3J9xQ2mV8pL4wR7tY1uZ6nB5cD0fG3hJ',
};
const CONFIG_DIR = join(__dirname, '..', '..', 'config');

function problemsOf(env: Env, dir = CONFIG_DIR): string[] {
  try {
    loadConfig({ ...BASE, ...env }, dir);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('key references in the configuration', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keys-config-'));
    copyFileSync(join(CONFIG_DIR, 'default.yaml'), join(dir, 'default.yaml'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts an aws-sm reference and hands it on parsed, with the reference as written', () => {
    const config = loadConfig(
      { ...BASE, GATHER_API_KEY_REF: 'aws-sm:gather/prod#api_key' },
      CONFIG_DIR,
    );
    expect(config.gather.apiKey).toEqual({
      kind: 'ref',
      name: 'GATHER_API_KEY_REF',
      ref: 'aws-sm:gather/prod#api_key',
      secret: { kind: 'aws-sm', secretId: 'gather/prod', field: 'api_key' },
    });
  });

  it('hands a vault reference on parsed, the field defaulted', () => {
    const config = loadConfig(
      {
        ...BASE,
        GATHER_API_KEY_REF: 'vault:secret/gather',
        VAULT_ADDR: 'http://127.0.0.1:8200',
        VAULT_TOKEN: 't',
      },
      CONFIG_DIR,
    );
    expect(config.gather.apiKey).toEqual({
      kind: 'ref',
      name: 'GATHER_API_KEY_REF',
      ref: 'vault:secret/gather',
      secret: { kind: 'vault', mount: 'secret', path: 'gather', field: 'api_key' },
    });
  });

  it('refuses a reference of unknown syntax, naming the variable and the forms', () => {
    expect(problemsOf({ GATHER_API_KEY_REF: 'gcp-sm:gather' })).toEqual([
      'GATHER_API_KEY_REF: "gcp-sm:gather" is not a secret-manager reference (expected aws-sm:<secret-id>[#<json-field>] or vault:<mount>/<path>[#<field>])',
    ]);
  });

  it('refuses a vault reference without a path', () => {
    expect(
      problemsOf({
        GATHER_API_KEY_REF: 'vault:secret',
        VAULT_ADDR: 'http://127.0.0.1:8200',
        VAULT_TOKEN: 't',
      }),
    ).toEqual([expect.stringContaining('GATHER_API_KEY_REF: "vault:secret" needs <mount>/<path>')]);
  });

  it('refuses a vault reference without VAULT_ADDR and without VAULT_TOKEN or VAULT_K8S_ROLE', () => {
    expect(problemsOf({ GATHER_API_KEY_REF: 'vault:secret/gather#api_key' })).toEqual([
      'GATHER_API_KEY_REF: a vault: reference needs VAULT_ADDR',
      'GATHER_API_KEY_REF: a vault: reference needs VAULT_TOKEN or VAULT_K8S_ROLE',
    ]);
  });

  it('accepts a vault reference with Kubernetes auth and fills the Vault defaults', () => {
    const config = loadConfig(
      {
        ...BASE,
        GATHER_API_KEY_REF: 'vault:secret/gather',
        VAULT_ADDR: 'https://vault.internal:8200',
        VAULT_K8S_ROLE: 'gather-bff',
      },
      CONFIG_DIR,
    );
    expect(config.vault).toEqual({
      addr: 'https://vault.internal:8200',
      k8sRole: 'gather-bff',
      k8sTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      k8sMount: 'kubernetes',
    });
  });

  it('reads every Vault setting from the environment', () => {
    const config = loadConfig(
      {
        ...BASE,
        GATHER_API_KEY_REF: 'vault:secret/gather',
        VAULT_ADDR: 'http://127.0.0.1:8200',
        VAULT_TOKEN: 'hvs.token',
        VAULT_NAMESPACE: 'team/gather',
        VAULT_K8S_TOKEN_FILE: '/var/run/token',
        VAULT_K8S_MOUNT: 'k8s-prod',
      },
      CONFIG_DIR,
    );
    expect(config.vault).toEqual({
      addr: 'http://127.0.0.1:8200',
      token: 'hvs.token',
      namespace: 'team/gather',
      k8sTokenFile: '/var/run/token',
      k8sMount: 'k8s-prod',
    });
  });

  it('refuses a VAULT_ADDR that is not a URL, naming the variable', () => {
    expect(
      problemsOf({
        GATHER_API_KEY_REF: 'vault:secret/gather',
        VAULT_ADDR: 'vault:8200',
        VAULT_TOKEN: 't',
      }),
    ).toEqual([expect.stringMatching(/^VAULT_ADDR \(vault\.addr\): /)]);
  });

  it('refuses Vault settings in YAML, where a token would be a secret in the repository', () => {
    writeFileSync(
      join(dir, 'test.yaml'),
      'vault:\n  addr: http://127.0.0.1:8200\n  token: hvs.in-yaml\n',
    );
    expect(problemsOf({ GATHER_API_KEY: 'qapi_0123456789abcdefABCDEF' }, dir)).toEqual([
      'vault: set the VAULT_* variables in the environment, not in config/*.yaml',
    ]);
  });

  it('names a key put where a reference or path belongs by fingerprint, never by value', () => {
    const key = 'qapi_0123456789abcdefABCDEF';
    for (const variable of ['GATHER_API_KEY_REF', 'GATHER_API_KEY_FILE']) {
      const problems = problemsOf({ [variable]: key });
      expect(problems).toEqual([
        `${variable} holds what looks like a key value where a path or reference belongs; fingerprint eed80ac0`,
      ]);
      expect(problems.join('\n')).not.toContain(key);
    }
  });

  it('validates the read-only key reference like the main one', () => {
    expect(
      problemsOf({
        GATHER_API_KEY: 'qapi_0123456789abcdefABCDEF',
        GATHER_READONLY_API_KEY_REF: 'aws-sm:',
      }),
    ).toEqual([
      expect.stringContaining('GATHER_READONLY_API_KEY_REF: "aws-sm:" needs a secret name'),
    ]);
  });

  it('validates team references from YAML, Vault settings included', () => {
    writeFileSync(
      join(dir, 'test.yaml'),
      [
        'gather:',
        '  teamKeys:',
        '    team-a: { ref: "vault:secret/team-a#api_key" }',
        '    team-b: { ref: "s3://bucket/key" }',
        '    team-c: { ref: "aws-sm:gather/team-c" }',
      ].join('\n'),
    );
    expect(problemsOf({ GATHER_API_KEY: 'qapi_0123456789abcdefABCDEF' }, dir)).toEqual([
      'gather.teamKeys.team-a: a vault: reference needs VAULT_ADDR',
      'gather.teamKeys.team-a: a vault: reference needs VAULT_TOKEN or VAULT_K8S_ROLE',
      expect.stringContaining(
        'gather.teamKeys.team-b: "s3://bucket/key" is not a secret-manager reference',
      ),
    ]);
  });
});
