import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_SETTINGS } from '../../src/config/env-map';
import { loadConfig, type Env } from '../../src/config/load-config';

const ROOT = join(__dirname, '..', '..');

/**
 * What the configuration reads from the environment, asked of the code itself: the settings
 * table, and every name loadConfig looks up (APP_ENV, the key variables and their _FILE and
 * _REF forms, the secrets' _FILE forms) while loading a minimal configuration.
 */
export function variablesTheConfigurationReads(): Set<string> {
  const read = new Set(ENV_SETTINGS.map((s) => s.env));
  const env: Env = {
    GATHER_API_KEY: 'qapi_configVariables0123456789',
    SESSION_SECRET: 'Zq3v9N1xK8pW2mR7tY4bL6cH0dF5gJ3s',
  };
  const watched = new Proxy(env, {
    get(target, name, receiver) {
      if (typeof name === 'string') read.add(name);
      return Reflect.get(target, name, receiver) as unknown;
    },
  });
  loadConfig(watched, join(ROOT, 'config'));
  return read;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /(?<!\.spec)\.ts$/.test(entry.name) ? [path] : [];
  });
}

/**
 * The variables src/ names outside the configuration: `process.env.X`, `env.X` or `env['X']` on
 * an environment passed around, and the OpenTelemetry helpers' `…FromEnv('X')`.
 */
export function variablesTheSourceNames(): Set<string> {
  const patterns = [
    /\benv\.([A-Z][A-Z0-9_]+)\b/g,
    /\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g,
    /FromEnv\(['"]([A-Z][A-Z0-9_]+)['"]\)/g,
  ];
  const names = new Set<string>();
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) names.add(match[1] as string);
    }
  }
  return names;
}
