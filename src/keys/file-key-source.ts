import { readFile } from 'node:fs/promises';
import { KeySource, KeySourceError } from './key-source';

/** A key in a file, e.g. a mounted container secret; surrounding whitespace is ignored. */
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
    try {
      return (await readFile(this.path, 'utf8')).trim();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const cause =
        code === 'ENOENT'
          ? 'file not found'
          : code === 'EACCES'
            ? 'permission denied'
            : `cannot read (${code ?? 'error'})`;
      throw new KeySourceError(this, cause);
    }
  }
}
