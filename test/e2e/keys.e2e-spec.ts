import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createApp } from '../../src/bootstrap';
import { ConfigError, loadConfig, type Env } from '../../src/config/load-config';
import { GatherKeys } from '../../src/keys/gather-keys.service';
import { fingerprint } from '../../src/config/key-format';
import { FakeSecretsManager } from '../fakes/fake-secrets-manager';
import { FakeVault } from '../fakes/fake-vault';
import { CONFIG_DIR, startTestApp, testEnv, type TestApp } from '../support/start-app';
import { freePort } from '../../src/http/free-port';
import { tempDir } from '../support/temp-dir';

const AWS_KEY = 'qapi_fromAWS0123456789abcdefXYZ';
const VAULT_KEY = 'qapi_fromVAULT0123456789abcdefXY';

/** What the AWS SDK reads from the environment itself; pointed at the loopback fake. */
const AWS_ENV = [
  'AWS_REGION',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
] as const;

/**
 * Start-up as main.ts does it (configuration, application, listen), for a start that must be
 * refused: the error it stopped with (main.ts prints its message). The application is closed
 * either way.
 */
async function refusedStart(overrides: Env): Promise<Error> {
  const app = await createApp(loadConfig(testEnv(overrides), CONFIG_DIR), {
    logDestination: new PassThrough(),
  });
  try {
    await app.listen(0, '127.0.0.1');
  } catch (err) {
    return err as Error;
  } finally {
    await app.close();
  }
  throw new Error('the application started');
}

describe('Gather keys from secret managers, through the whole application', () => {
  let sm: FakeSecretsManager;
  let vault: FakeVault;
  const saved: Partial<Record<(typeof AWS_ENV)[number], string>> = {};

  beforeAll(async () => {
    sm = await FakeSecretsManager.start();
    vault = await FakeVault.start();
    for (const name of AWS_ENV) saved[name] = process.env[name];
    Object.assign(process.env, {
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url,
      AWS_ACCESS_KEY_ID: 'AKIDFAKE',
      AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key',
      // Never look for credentials or settings beyond the ones above.
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/nonexistent/aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    });
  });
  afterAll(async () => {
    for (const name of AWS_ENV) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await Promise.all([sm.close(), vault.close()]);
  });
  /** The secrets every test starts from; a test that changes them gets them back afterwards. */
  const baseline = (): void => {
    sm.secrets.clear();
    sm.denied.clear();
    vault.kv.clear();
    vault.tokens.clear();
    sm.secrets.set('gather/prod', JSON.stringify({ api_key: AWS_KEY }));
    vault.kv.set('secret/gather', { api_key: VAULT_KEY });
    vault.tokens.add('hvs.bff');
  };
  afterEach(baseline);

  // First in the file on purpose: nestjs-pino keeps one root logger per module registry (the
  // first application's), so only the first application's sink is sure to hold its own lines.
  describe('a start with an aws-sm main key and a vault read-only key', () => {
    let t: TestApp;
    beforeAll(async () => {
      baseline();
      t = await startTestApp({
        GATHER_API_KEY: '',
        GATHER_API_KEY_REF: 'aws-sm:gather/prod#api_key',
        GATHER_READONLY_API_KEY_REF: 'vault:secret/gather',
        VAULT_ADDR: vault.url,
        VAULT_TOKEN: 'hvs.bff',
      });
    });
    afterAll(() => t.close());

    it('holds both keys, read once each, and the application is ready', async () => {
      const keys = t.app.get(GatherKeys);
      expect(keys.keyFor({ method: 'POST' }).value).toBe(AWS_KEY);
      expect(keys.keyFor({ method: 'GET' }).value).toBe(VAULT_KEY);
      expect(sm.callsFor('gather/prod')).toBe(1);
      expect(vault.callsTo('/v1/secret/data/gather')).toHaveLength(1);
      const res = await fetch(`${t.url}/readyz`);
      expect(res.status).toBe(200);
    });

    it('logs the loaded keys by fingerprint and reference, never by value', async () => {
      // The logger delivers its lines asynchronously: wait (bounded) for the two expected.
      for (let i = 0; i < 200 && (t.logs().match(/Gather key loaded/g) ?? []).length < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const logs = t.logs();
      expect(logs).toContain(fingerprint(AWS_KEY));
      expect(logs).toContain('GATHER_API_KEY_REF=aws-sm:gather/prod#api_key');
      expect(logs).toContain(fingerprint(VAULT_KEY));
      expect(logs).not.toContain(AWS_KEY);
      expect(logs).not.toContain(VAULT_KEY);
    });
  });

  it('refuses to start when the AWS secret does not exist, naming the reference and the cause', async () => {
    const error = await refusedStart({
      GATHER_API_KEY: '',
      GATHER_API_KEY_REF: 'aws-sm:gather/missing',
    });
    expect(error.message).toContain(
      'GATHER_API_KEY_REF=aws-sm:gather/missing: secret not found (ResourceNotFoundException',
    );
  });

  it('refuses to start when AWS denies the secret, without its value in the message', async () => {
    sm.denied.add('gather/prod');
    const error = await refusedStart({
      GATHER_API_KEY: '',
      GATHER_API_KEY_REF: 'aws-sm:gather/prod#api_key',
    });
    expect(error.message).toContain(
      'GATHER_API_KEY_REF=aws-sm:gather/prod#api_key: access denied (AccessDeniedException',
    );
    expect(error.message).not.toContain(AWS_KEY);
  });

  it('refuses to start when Vault refuses the token, without the value in the message', async () => {
    const error = await refusedStart({
      GATHER_API_KEY: '',
      GATHER_API_KEY_REF: 'vault:secret/gather#api_key',
      VAULT_ADDR: vault.url,
      VAULT_TOKEN: 'hvs.revoked',
    });
    expect(error.message).toContain(
      'GATHER_API_KEY_REF=vault:secret/gather#api_key: permission denied (HTTP 403)',
    );
    expect(error.message).not.toContain(VAULT_KEY);
  });

  it('refuses to start when Vault is unreachable, listing every key that failed', async () => {
    const error = await refusedStart({
      GATHER_API_KEY: '',
      GATHER_API_KEY_REF: 'vault:secret/gather',
      GATHER_READONLY_API_KEY_REF: 'aws-sm:gather/missing',
      VAULT_ADDR: `http://127.0.0.1:${await freePort()}`,
      VAULT_TOKEN: 'hvs.bff',
    });
    expect(error.message).toContain('Gather keys could not be loaded:');
    expect(error.message).toContain(
      '  - GATHER_API_KEY_REF=vault:secret/gather: Vault unreachable (ECONNREFUSED)',
    );
    expect(error.message).toContain(
      '  - GATHER_READONLY_API_KEY_REF=aws-sm:gather/missing: secret not found',
    );
  });

  it('refuses a secret that is not a qapi_ key, by fingerprint only', async () => {
    sm.secrets.set('gather/prod', 'not-a-gather-key-at-all');
    const error = await refusedStart({
      GATHER_API_KEY: '',
      GATHER_API_KEY_REF: 'aws-sm:gather/prod',
    });
    expect(error.message).toContain(
      `GATHER_API_KEY_REF=aws-sm:gather/prod: not a Gather API key (expected qapi_ and 16 or more of A-Z a-z 0-9 _ -); fingerprint ${fingerprint('not-a-gather-key-at-all')}`,
    );
    expect(error.message).not.toContain('not-a-gather-key-at-all');
  });

  it('refuses an empty key file, saying it is empty', async () => {
    const keyFile = join(await tempDir('empty-key-'), 'gather_api_key');
    await writeFile(keyFile, '\n');
    const error = await refusedStart({ GATHER_API_KEY: '', GATHER_API_KEY_FILE: keyFile });
    expect(error.message).toBe(
      `Gather keys could not be loaded:\n  - GATHER_API_KEY_FILE=${keyFile}: is empty`,
    );
  });

  it('refuses a vault reference without VAULT_ADDR before anything starts', async () => {
    const before = vault.calls.length;
    const error = (await startTestApp({
      GATHER_API_KEY: '',
      GATHER_API_KEY_REF: 'vault:secret/gather',
    }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('GATHER_API_KEY_REF: a vault: reference needs VAULT_ADDR');
    expect(vault.calls).toHaveLength(before);
  });
});
