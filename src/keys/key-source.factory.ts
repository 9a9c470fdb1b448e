import type { KeySourceConfig } from '../config/config.schema';
import { EnvKeySource } from './env-key-source';
import { FileKeySource } from './file-key-source';
import { KeySource, KeySourceError } from './key-source';

/** Secret-manager references (aws-sm:, vault:) are resolved by the sources of the key-lifecycle work. */
class UnsupportedRefSource extends KeySource {
  readonly reloadable = false;
  constructor(readonly description: string) {
    super();
  }
  load(): Promise<string> {
    return Promise.reject(
      new KeySourceError(this, 'secret-manager references are not supported yet'),
    );
  }
}

export function createKeySource(config: KeySourceConfig): KeySource {
  switch (config.kind) {
    case 'value':
      return new EnvKeySource(config.name, config.value);
    case 'file':
      return new FileKeySource(config.name, config.path);
    case 'ref':
      return new UnsupportedRefSource(`${config.name}=${config.ref}`);
  }
}
