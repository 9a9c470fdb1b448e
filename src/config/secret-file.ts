import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/**
 * A secret kept in a file, as container secrets are mounted: the key files and the `*_FILE`
 * settings read it the same way (docs/configuration.md, "Secrets from files"). Surrounding
 * whitespace (the trailing newline an editor or `echo` adds) is not part of it, and a file
 * that holds nothing else is refused: an empty secret is always a mistake. A problem never
 * quotes the file's content.
 */
export type SecretFileRead =
  { readonly ok: true; readonly secret: string } | { readonly ok: false; readonly problem: string };

function secretIn(text: string): SecretFileRead {
  const secret = text.trim();
  return secret === '' ? { ok: false, problem: 'is empty' } : { ok: true, secret };
}

function unreadable(err: unknown): SecretFileRead {
  const code = (err as NodeJS.ErrnoException).code;
  const problem =
    code === 'ENOENT'
      ? 'file not found'
      : code === 'EACCES'
        ? 'permission denied'
        : `cannot read (${code ?? 'error'})`;
  return { ok: false, problem };
}

export async function readSecretFile(path: string): Promise<SecretFileRead> {
  try {
    return secretIn(await readFile(path, 'utf8'));
  } catch (err) {
    return unreadable(err);
  }
}

/** The same, for start-up, where the configuration is read synchronously. */
export function readSecretFileSync(path: string): SecretFileRead {
  try {
    return secretIn(readFileSync(path, 'utf8'));
  } catch (err) {
    return unreadable(err);
  }
}
