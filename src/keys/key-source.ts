/**
 * Where one Gather key comes from. The environment and file sources live here; the AWS
 * Secrets Manager and Vault sources plug in behind the same contract.
 */
export abstract class KeySource {
  /** Names the source in messages: a variable, a path or a reference, never a value. */
  abstract readonly description: string;
  /** Reads the key as it is now; rejects with a message naming the source and the cause. */
  abstract load(): Promise<string>;
  /** Whether reading again can give another key (files and secret managers rotate). */
  abstract readonly reloadable: boolean;
}

export class KeySourceError extends Error {
  constructor(source: KeySource, cause: string) {
    super(`${source.description}: ${cause}`);
    this.name = 'KeySourceError';
  }
}
