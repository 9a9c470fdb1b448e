import { isGatherKey, fingerprint } from '../keys/key-format';
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
    ? { kind: 'file', name, path: raw }
    : { kind: 'ref', name, ref: raw };
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
  if (kind === 'file') return { kind: 'file', name: where, path: target };
  if (kind === 'ref') return { kind: 'ref', name: where, ref: target };
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
