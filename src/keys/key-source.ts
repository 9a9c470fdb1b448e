/**
 * Where one Gather key comes from: the environment, a file, AWS Secrets Manager or Vault, all
 * behind this contract so the holder of the keys never knows which.
 */
export abstract class KeySource {
  /** The setting that configured it (a variable or `gather.teamKeys.<team>`); a metric label. */
  abstract readonly name: string;
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

/** Start-up refused: every key that could not be loaded, one line each. */
export class KeyLoadError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Gather keys could not be loaded:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'KeyLoadError';
  }
}
