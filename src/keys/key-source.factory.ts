import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig, KeySourceConfig } from '../config/config.schema';
import { AwsSecretsManagerKeySource } from './aws-secrets-manager-key-source';
import { EnvKeySource } from './env-key-source';
import { FileKeySource } from './file-key-source';
import { parseKeyRef } from './key-ref';
import { KeySource, KeySourceError } from './key-source';
import { VaultClient } from './vault-client';
import { VaultKeySource } from './vault-key-source';

/** Bound on each call to a secret manager; every read of a key has its own overall deadline. */
export const SECRET_MANAGER_TIMEOUT_MS = 4000;

/** A source that cannot work; configuration validation normally stops it from being built. */
class BrokenSource extends KeySource {
  readonly reloadable = false;
  constructor(
    readonly name: string,
    readonly description: string,
    private readonly cause: string,
  ) {
    super();
  }
  load(): Promise<string> {
    return Promise.reject(new KeySourceError(this, this.cause));
  }
}

/**
 * Turns configured key sources into loaders. Sources of one secret manager share one client
 * (one connection pool, one Vault login), created on first use and closed with the module.
 */
@Injectable()
export class KeySourceFactory implements OnModuleDestroy {
  private readonly vaultSettings: AppConfig['vault'];
  private aws: SecretsManagerClient | undefined;
  private vault: VaultClient | undefined;

  constructor(@Inject(ConfigService) config: ConfigService<AppConfig, true>) {
    this.vaultSettings = config.get('vault', { infer: true });
  }

  create(config: KeySourceConfig): KeySource {
    switch (config.kind) {
      case 'value':
        return new EnvKeySource(config.name, config.value);
      case 'file':
        return new FileKeySource(config.name, config.path);
      case 'ref':
        return this.fromRef(config.name, config.ref);
    }
  }

  onModuleDestroy(): void {
    this.aws?.destroy();
  }

  private fromRef(name: string, ref: string): KeySource {
    const parsed = parseKeyRef(ref);
    switch (parsed.kind) {
      case 'aws-sm':
        return new AwsSecretsManagerKeySource(
          name,
          ref,
          parsed.secretId,
          parsed.field,
          this.awsClient(),
        );
      case 'vault': {
        const client = this.vaultClient();
        return client
          ? new VaultKeySource(name, ref, parsed.mount, parsed.path, parsed.field, client)
          : new BrokenSource(name, `${name}=${ref}`, 'VAULT_ADDR is not set');
      }
      case 'invalid':
        return new BrokenSource(name, name, `the reference ${parsed.problem}`);
    }
  }

  private awsClient(): SecretsManagerClient {
    this.aws ??= new SecretsManagerClient({
      maxAttempts: 2,
      requestHandler: {
        connectionTimeout: SECRET_MANAGER_TIMEOUT_MS,
        requestTimeout: SECRET_MANAGER_TIMEOUT_MS,
      },
    });
    return this.aws;
  }

  private vaultClient(): VaultClient | undefined {
    const { addr } = this.vaultSettings;
    if (addr === undefined) return undefined;
    this.vault ??= new VaultClient({ ...this.vaultSettings, addr }, SECRET_MANAGER_TIMEOUT_MS);
    return this.vault;
  }
}
