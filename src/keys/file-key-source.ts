import { readSecretFile } from '../config/secret-file';
import { KeySource, KeySourceError } from './key-source';

/** A key in a file, e.g. a mounted container secret; read as every secret file is. */
export class FileKeySource extends KeySource {
  readonly reloadable = true;

  constructor(
    readonly name: string,
    private readonly path: string,
  ) {
    super();
  }

  get description(): string {
    return `${this.name}=${this.path}`;
  }

  async load(): Promise<string> {
    const read = await readSecretFile(this.path);
    if (!read.ok) throw new KeySourceError(this, read.problem);
    return read.secret;
  }
}
