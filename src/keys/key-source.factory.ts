import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig, KeySourceConfig } from '../config/config.schema';
import { AwsSecretsManagerKeySource } from './aws-secrets-manager-key-source';
import { EnvKeySource } from './env-key-source';
import { FileKeySource } from './file-key-source';
import type { KeyRef } from '../config/key-ref';
import { KeySource } from './key-source';
import { VaultClient } from './vault-client';
import { VaultKeySource } from './vault-key-source';

/** Bound on each call to a secret manager; every read of a key has its own overall deadline. */
export const SECRET_MANAGER_TIMEOUT_MS = 4000;

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
        return this.fromRef(config.name, config.ref, config.secret);
    }
  }

  onModuleDestroy(): void {
    this.aws?.destroy();
  }

  private fromRef(name: string, ref: string, secret: KeyRef): KeySource {
    switch (secret.kind) {
      case 'aws-sm':
        return new AwsSecretsManagerKeySource(
          name,
          ref,
          secret.secretId,
          secret.field,
          this.awsClient(),
        );
      case 'vault':
        return new VaultKeySource(
          name,
          ref,
          secret.mount,
          secret.path,
          secret.field,
          this.vaultClient(),
        );
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

  private vaultClient(): VaultClient {
    const { addr } = this.vaultSettings;
    // Configuration refuses a vault: reference without VAULT_ADDR; this is a programming error.
    if (addr === undefined) throw new Error('a vault: key source needs VAULT_ADDR');
    this.vault ??= new VaultClient({ ...this.vaultSettings, addr }, SECRET_MANAGER_TIMEOUT_MS);
    return this.vault;
  }
}
