import { KeySource } from './key-source';

/** A key given as a value in the environment: read once, never changes. */
export class EnvKeySource extends KeySource {
  readonly reloadable = false;

  constructor(
    readonly name: string,
    private readonly value: string,
  ) {
    super();
  }

  get description(): string {
    return this.name;
  }

  load(): Promise<string> {
    return Promise.resolve(this.value);
  }
}
