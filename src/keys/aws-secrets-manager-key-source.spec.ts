import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { FakeSecretsManager } from '../../test/fakes/fake-secrets-manager';
import { AwsSecretsManagerKeySource } from './aws-secrets-manager-key-source';
import { parseKeyRef } from '../config/key-ref';
import { freePort } from '../http/free-port';

const KEY = 'qapi_awsKEY0123456789abcdefXYZ';

describe('AwsSecretsManagerKeySource (real SDK against a loopback Secrets Manager)', () => {
  let fake: FakeSecretsManager;
  let client: SecretsManagerClient;

  const clientFor = (endpoint: string): SecretsManagerClient =>
    new SecretsManagerClient({
      region: 'eu-west-1',
      endpoint,
      credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret-access-key' },
      maxAttempts: 1,
    });

  const source = (ref: string, c = client): AwsSecretsManagerKeySource => {
    const parsed = parseKeyRef(ref);
    if (parsed.kind !== 'aws-sm') throw new Error(`not an aws-sm reference: ${ref}`);
    return new AwsSecretsManagerKeySource(
      'GATHER_API_KEY_REF',
      ref,
      parsed.secretId,
      parsed.field,
      c,
    );
  };

  beforeAll(async () => {
    fake = await FakeSecretsManager.start();
    client = clientFor(fake.url);
  });
  afterAll(async () => {
    client.destroy();
    await fake.close();
  });
  beforeEach(() => {
    fake.secrets.clear();
    fake.denied.clear();
    fake.calls.length = 0;
  });

  it('reads a plain secret string as the key, without its trailing newline, over GetSecretValue', async () => {
    fake.secrets.set('gather/prod', `${KEY}\n`);
    await expect(source('aws-sm:gather/prod').load()).resolves.toBe(KEY);
    expect(fake.calls).toHaveLength(1);
    const [call] = fake.calls;
    expect(call?.target).toBe('secretsmanager.GetSecretValue');
    expect(call?.contentType).toBe('application/x-amz-json-1.1');
    expect(call?.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDFAKE\//);
    expect(call?.secretId).toBe('gather/prod');
  });

  it('reads the named field of a JSON secret', async () => {
    fake.secrets.set('gather/prod', JSON.stringify({ api_key: KEY, other: 'x' }));
    await expect(source('aws-sm:gather/prod#api_key').load()).resolves.toBe(KEY);
  });

  it('reads again on every load, so a rotated secret is seen', async () => {
    const s = source('aws-sm:gather/prod');
    fake.secrets.set('gather/prod', KEY);
    await s.load();
    fake.secrets.set('gather/prod', `${KEY}2`);
    await expect(s.load()).resolves.toBe(`${KEY}2`);
    expect(fake.callsFor('gather/prod')).toBe(2);
  });

  it('names the reference and "secret not found" for a missing secret', async () => {
    await expect(source('aws-sm:gather/missing').load()).rejects.toThrow(
      "GATHER_API_KEY_REF=aws-sm:gather/missing: secret not found (ResourceNotFoundException: Secrets Manager can't find the specified secret.)",
    );
  });

  it('names the reference and "access denied" when the secret is denied', async () => {
    fake.secrets.set('gather/prod', KEY);
    fake.denied.add('gather/prod');
    const err = (await source('aws-sm:gather/prod')
      .load()
      .catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(
      /^GATHER_API_KEY_REF=aws-sm:gather\/prod: access denied \(AccessDeniedException: User: .* is not authorized/,
    );
    expect(err.message).not.toContain(KEY);
  });

  it('names the reference and the network error when Secrets Manager is unreachable', async () => {
    const unreachable = clientFor(`http://127.0.0.1:${await freePort()}`);
    try {
      await expect(source('aws-sm:gather/prod', unreachable).load()).rejects.toThrow(
        'GATHER_API_KEY_REF=aws-sm:gather/prod: AWS Secrets Manager unreachable (ECONNREFUSED)',
      );
    } finally {
      unreachable.destroy();
    }
  });

  it('refuses a field of a secret that is not JSON without quoting the secret', async () => {
    fake.secrets.set('gather/prod', KEY);
    const err = (await source('aws-sm:gather/prod#api_key')
      .load()
      .catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(
      'GATHER_API_KEY_REF=aws-sm:gather/prod#api_key: the secret string is not JSON, so it has no field "api_key"',
    );
  });

  it('refuses a JSON secret without the field, naming the field only', async () => {
    fake.secrets.set('gather/prod', JSON.stringify({ key: KEY }));
    const err = (await source('aws-sm:gather/prod#api_key')
      .load()
      .catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(
      'GATHER_API_KEY_REF=aws-sm:gather/prod#api_key: the secret has no string field "api_key"',
    );
  });

  it('refuses a binary secret', async () => {
    fake.secrets.set('gather/prod', Buffer.from(KEY));
    await expect(source('aws-sm:gather/prod').load()).rejects.toThrow(
      'GATHER_API_KEY_REF=aws-sm:gather/prod: the secret has no string value',
    );
  });
});
