import { KeySource, KeySourceError } from './key-source';
import { VaultError, type VaultClient } from './vault-client';

/** A key in Vault KV v2 (`vault:<mount>/<path>[#<field>]`), read as `vault kv get` would. */
export class VaultKeySource extends KeySource {
  readonly reloadable = true;

  constructor(
    readonly name: string,
    private readonly ref: string,
    private readonly mount: string,
    private readonly path: string,
    private readonly field: string,
    private readonly client: VaultClient,
  ) {
    super();
  }

  get description(): string {
    return `${this.name}=${this.ref}`;
  }

  async load(): Promise<string> {
    let data: Record<string, unknown>;
    try {
      data = await this.client.readKv(this.mount, this.path);
    } catch (err) {
      if (err instanceof VaultError) throw new KeySourceError(this, err.message);
      throw err;
    }
    const value = data[this.field];
    if (typeof value !== 'string') {
      throw new KeySourceError(this, `the secret has no string field "${this.field}"`);
    }
    return value.trim();
  }
}
