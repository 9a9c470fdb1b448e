import { isGatherKey, fingerprint } from './key-format';
import { parseKeyRef } from './key-ref';
import type { KeySourceConfig } from './config.schema';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the three forms of one key from the environment (`X`, `X_FILE`, `X_REF`) and
 * reports every problem instead of stopping at the first.
 */
export function keySourceFromEnv(
  env: Env,
  base: string,
  problems: string[],
  required: boolean,
): KeySourceConfig | undefined {
  const options = [base, `${base}_FILE`, `${base}_REF`];
  const given = options.filter((name) => (env[name] ?? '') !== '');
  if (given.length !== 1) {
    if (given.length > 1 || required) {
      problems.push(
        `${given.length > 1 ? 'more than one' : 'no'} source for the ${base === 'GATHER_API_KEY' ? 'Gather API key' : base}: set exactly one of ${options.join(', ')}` +
          (given.length > 1 ? ` (set: ${given.join(', ')})` : ''),
      );
    }
    return undefined;
  }
  const name = given[0] as string;
  const raw = env[name] as string;
  if (name === base) return valueSource(name, raw, problems);
  return name.endsWith('_FILE')
    ? fileSource(name, raw, problems)
    : refSource(name, raw, env, problems);
}

/** A team's key source as `config/<APP_ENV>.yaml` writes it: `{ file }`, `{ env }` or `{ ref }`. */
export function teamKeySource(
  team: string,
  spec: unknown,
  env: Env,
  problems: string[],
): KeySourceConfig | undefined {
  const where = `gather.teamKeys.${team}`;
  if (typeof spec !== 'object' || spec === null) {
    problems.push(`${where}: must be one of { file }, { env } or { ref }`);
    return undefined;
  }
  const entries = Object.entries(spec).filter(([k]) => ['file', 'env', 'ref'].includes(k));
  const [entry] = entries;
  if (entries.length !== 1 || !entry || typeof entry[1] !== 'string' || entry[1] === '') {
    problems.push(`${where}: must name exactly one of file, env or ref`);
    return undefined;
  }
  const [kind, target] = entry as [string, string];
  if (kind === 'file') return fileSource(where, target, problems);
  if (kind === 'ref') return refSource(where, target, env, problems);
  const value = env[target];
  if (value === undefined || value === '') {
    problems.push(`${where}: environment variable ${target} is not set`);
    return undefined;
  }
  return valueSource(target, value, problems);
}

function valueSource(name: string, value: string, problems: string[]): KeySourceConfig {
  if (!isGatherKey(value)) {
    problems.push(
      `${name} is not a Gather API key (expected qapi_ and 16 or more of A-Z a-z 0-9 _ -); fingerprint ${fingerprint(value)}`,
    );
  }
  return { kind: 'value', name, value };
}

/**
 * A path or reference is echoed in messages; one that holds a key (set in the wrong variable)
 * must not be, so it is named by fingerprint instead.
 */
function holdsKey(name: string, target: string, problems: string[]): boolean {
  if (!target.includes('qapi_')) return false;
  problems.push(
    `${name} holds what looks like a key value where a path or reference belongs; fingerprint ${fingerprint(target)}`,
  );
  return true;
}

function fileSource(name: string, path: string, problems: string[]): KeySourceConfig {
  holdsKey(name, path, problems);
  return { kind: 'file', name, path };
}

/**
 * Parses a secret-manager reference, the one time it is parsed, and checks the settings its
 * secret manager needs; keys/ builds the source from the parsed form. Undefined when refused.
 */
function refSource(
  name: string,
  ref: string,
  env: Env,
  problems: string[],
): KeySourceConfig | undefined {
  if (holdsKey(name, ref, problems)) return undefined;
  const secret = parseKeyRef(ref);
  if (secret.kind === 'invalid') {
    problems.push(`${name}: "${ref}" ${secret.problem}`);
    return undefined;
  }
  if (secret.kind === 'vault') {
    const before = problems.length;
    if (!env.VAULT_ADDR) problems.push(`${name}: a vault: reference needs VAULT_ADDR`);
    if (!env.VAULT_TOKEN && !env.VAULT_K8S_ROLE) {
      problems.push(`${name}: a vault: reference needs VAULT_TOKEN or VAULT_K8S_ROLE`);
    }
    if (problems.length > before) return undefined;
  }
  return { kind: 'ref', name, ref, secret };
}
