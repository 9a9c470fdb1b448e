import { readSecretFileSync } from './secret-file';

type Env = Readonly<Record<string, string | undefined>>;

/** The secret settings that may come from a file instead, as `<NAME>_FILE` (docs/configuration.md). */
export const FILE_SECRETS = [
  'SESSION_SECRET',
  'OIDC_CLIENT_SECRET',
  'ADMIN_TOKEN',
  'REDIS_PASSWORD',
  'REDIS_URL',
] as const;

const set = (value: string | undefined): value is string => value !== undefined && value !== '';

/**
 * The secret settings given as files, read now (start-up), by the name of the setting they
 * stand for. Problems name the settings and the path, never what a file holds.
 */
export function secretsFromFiles(env: Env, problems: string[]): Record<string, string> {
  const read: Record<string, string> = {};
  for (const name of FILE_SECRETS) {
    const fileName = `${name}_FILE`;
    const path = env[fileName];
    if (!set(path)) continue;
    if (set(env[name])) {
      problems.push(`${name} and ${fileName} are both set: set one of them`);
      continue;
    }
    const file = readSecretFileSync(path);
    if (file.ok) read[name] = file.secret;
    else problems.push(`${fileName}=${shown(path)}: ${file.problem}`);
  }
  return read;
}

/** A path is echoed; a value with no `/` in it may be the secret itself, set in the wrong variable. */
const shown = (path: string): string =>
  path.includes('/') ? path : '(not shown: it holds no "/", is it the secret itself?)';
