import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeVault } from '../../test/fakes/fake-vault';
import { parseKeyRef } from '../config/key-ref';
import { VaultClient, type VaultSettings } from './vault-client';
import { VaultKeySource } from './vault-key-source';
import { freePort } from '../http/free-port';

const KEY = 'qapi_vaultKEY0123456789abcdefXYZ';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.service-account.signature';

function source(ref: string, client: VaultClient): VaultKeySource {
  const parsed = parseKeyRef(ref);
  if (parsed.kind !== 'vault') throw new Error(`not a vault reference: ${ref}`);
  return new VaultKeySource(
    'GATHER_API_KEY_REF',
    ref,
    parsed.mount,
    parsed.path,
    parsed.field,
    client,
  );
}

const message = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e as Error).message,
  );

describe('VaultKeySource (real HTTP against a loopback Vault)', () => {
  let vault: FakeVault;
  let dir: string;
  let tokenFile: string;

  const settings = (over: Partial<VaultSettings> = {}): VaultSettings => ({
    addr: vault.url,
    k8sTokenFile: tokenFile,
    k8sMount: 'kubernetes',
    ...over,
  });

  beforeAll(async () => {
    vault = await FakeVault.start();
    dir = mkdtempSync(join(tmpdir(), 'vault-'));
    tokenFile = join(dir, 'token');
  });
  afterAll(async () => {
    await vault.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    vault.kv.clear();
    vault.tokens.clear();
    vault.k8sRoles.clear();
    vault.calls.length = 0;
    vault.issuedTokens.length = 0;
    vault.namespace = undefined;
    vault.hang = false;
    vault.leaseSeconds = 3600;
    vault.tokens.add('hvs.static');
    vault.kv.set('secret/gather', { api_key: `${KEY}\n`, other: 'qapi_otherKEY0123456789abcdef' });
    writeFileSync(tokenFile, `${JWT}\n`);
  });

  describe('with VAULT_TOKEN', () => {
    it('reads GET /v1/<mount>/data/<path> with X-Vault-Token and the api_key field by default', async () => {
      const client = new VaultClient(settings({ token: 'hvs.static' }), 2000);
      await expect(source('vault:secret/gather', client).load()).resolves.toBe(KEY);
      expect(vault.calls).toEqual([
        expect.objectContaining({
          method: 'GET',
          path: '/v1/secret/data/gather',
          token: 'hvs.static',
          namespace: undefined,
        }),
      ]);
    });

    it('reads the named field of a nested path', async () => {
      vault.kv.set('kv/teams/team-a', { key: KEY });
      const client = new VaultClient(settings({ token: 'hvs.static' }), 2000);
      await expect(source('vault:kv/teams/team-a#key', client).load()).resolves.toBe(KEY);
      expect(vault.calls[0]?.path).toBe('/v1/kv/data/teams/team-a');
    });

    it('sends X-Vault-Namespace when VAULT_NAMESPACE is set', async () => {
      vault.namespace = 'org/gather';
      const client = new VaultClient(
        settings({ token: 'hvs.static', namespace: 'org/gather' }),
        2000,
      );
      await expect(source('vault:secret/gather', client).load()).resolves.toBe(KEY);
      expect(vault.calls[0]?.namespace).toBe('org/gather');
    });

    it('names the reference and "not found" for a missing secret', async () => {
      const client = new VaultClient(settings({ token: 'hvs.static' }), 2000);
      await expect(message(source('vault:secret/nope', client).load())).resolves.toBe(
        'GATHER_API_KEY_REF=vault:secret/nope: secret not found (HTTP 404)',
      );
    });

    it('names the reference and "permission denied" for a refused token, without the value', async () => {
      const client = new VaultClient(settings({ token: 'hvs.revoked' }), 2000);
      const text = await message(source('vault:secret/gather', client).load());
      expect(text).toBe('GATHER_API_KEY_REF=vault:secret/gather: permission denied (HTTP 403)');
      expect(text).not.toContain(KEY);
    });

    it('names the field when the secret lacks it, never another field of the secret', async () => {
      const client = new VaultClient(settings({ token: 'hvs.static' }), 2000);
      const text = await message(source('vault:secret/gather#missing', client).load());
      expect(text).toBe(
        'GATHER_API_KEY_REF=vault:secret/gather#missing: the secret has no string field "missing"',
      );
      expect(text).not.toContain('qapi_');
    });

    it('names the reference and the network error when Vault is unreachable', async () => {
      const client = new VaultClient(
        settings({ addr: `http://127.0.0.1:${await freePort()}`, token: 'hvs.static' }),
        2000,
      );
      await expect(message(source('vault:secret/gather', client).load())).resolves.toBe(
        'GATHER_API_KEY_REF=vault:secret/gather: Vault unreachable (ECONNREFUSED)',
      );
    });

    it('gives up on a Vault that does not answer within the bound', async () => {
      vault.hang = true;
      const client = new VaultClient(settings({ token: 'hvs.static' }), 150);
      await expect(message(source('vault:secret/gather', client).load())).resolves.toBe(
        'GATHER_API_KEY_REF=vault:secret/gather: Vault did not answer within 150 ms',
      );
    });
  });

  describe('with Kubernetes auth (VAULT_K8S_ROLE)', () => {
    beforeEach(() => {
      vault.k8sRoles.set('gather-bff', JWT);
    });

    it('logs in with the role and the service-account token, then reads with the issued token', async () => {
      const client = new VaultClient(
        settings({ k8sRole: 'gather-bff', token: 'hvs.static' }),
        2000,
      );
      await expect(source('vault:secret/gather', client).load()).resolves.toBe(KEY);
      expect(vault.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
        'POST /v1/auth/kubernetes/login',
        'GET /v1/secret/data/gather',
      ]);
      expect(vault.calls[0]?.body).toEqual({ role: 'gather-bff', jwt: JWT });
      expect(vault.calls[1]?.token).toBe(vault.issuedTokens[0]);
    });

    it('logs in at VAULT_K8S_MOUNT and with the namespace header', async () => {
      vault.k8sMount = 'k8s-prod';
      vault.namespace = 'org';
      try {
        const client = new VaultClient(
          settings({ k8sRole: 'gather-bff', k8sMount: 'k8s-prod', namespace: 'org' }),
          2000,
        );
        await expect(source('vault:secret/gather', client).load()).resolves.toBe(KEY);
        expect(vault.calls.map((c) => [c.path, c.namespace])).toEqual([
          ['/v1/auth/k8s-prod/login', 'org'],
          ['/v1/secret/data/gather', 'org'],
        ]);
      } finally {
        vault.k8sMount = 'kubernetes';
      }
    });

    it('keeps the token while it is valid, and one login serves concurrent reads', async () => {
      const client = new VaultClient(settings({ k8sRole: 'gather-bff' }), 2000);
      const s = source('vault:secret/gather', client);
      await Promise.all([s.load(), s.load(), s.load(), s.load(), s.load()]);
      await s.load();
      expect(vault.callsTo('/v1/auth/kubernetes/login')).toHaveLength(1);
      expect(vault.callsTo('/v1/secret/data/gather')).toHaveLength(6);
    });

    it('logs in again before the token lease runs out', async () => {
      let now = 1_000_000;
      vault.leaseSeconds = 100;
      const client = new VaultClient(settings({ k8sRole: 'gather-bff' }), 2000, () => now);
      const s = source('vault:secret/gather', client);
      await s.load();
      now += 95_000;
      await s.load();
      expect(vault.callsTo('/v1/auth/kubernetes/login')).toHaveLength(2);
      expect(vault.issuedTokens).toHaveLength(2);
      expect(vault.callsTo('/v1/secret/data/gather').map((c) => c.token)).toEqual(
        vault.issuedTokens,
      );
    });

    it('logs in again once when Vault refuses the token (403), and reads with the new one', async () => {
      const client = new VaultClient(settings({ k8sRole: 'gather-bff' }), 2000);
      const s = source('vault:secret/gather', client);
      await s.load();
      vault.revokeLoginTokens();
      await expect(s.load()).resolves.toBe(KEY);
      const [first, second] = vault.issuedTokens;
      expect(vault.issuedTokens).toHaveLength(2);
      expect(vault.callsTo('/v1/secret/data/gather').map((c) => c.token)).toEqual([
        first,
        first,
        second,
      ]);
    });

    it('names the role when the login is refused', async () => {
      writeFileSync(tokenFile, 'another.jwt.value');
      const client = new VaultClient(settings({ k8sRole: 'gather-bff' }), 2000);
      await expect(message(source('vault:secret/gather', client).load())).resolves.toBe(
        'GATHER_API_KEY_REF=vault:secret/gather: Kubernetes login as role gather-bff refused (HTTP 403: permission denied)',
      );
    });

    it('names the service-account token file when it cannot be read', async () => {
      const missing = join(dir, 'absent');
      const client = new VaultClient(
        settings({ k8sRole: 'gather-bff', k8sTokenFile: missing }),
        2000,
      );
      await expect(message(source('vault:secret/gather', client).load())).resolves.toBe(
        `GATHER_API_KEY_REF=vault:secret/gather: service-account token ${missing} cannot be read (ENOENT)`,
      );
    });
  });
});
