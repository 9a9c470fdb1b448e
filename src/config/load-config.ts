import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configSchema, type AppConfig } from './config.schema';
import { ENV_SETTINGS, settingName } from './env-map';
import { keySourceFromEnv, teamKeySource } from './key-sources';
import { checkProductionRules } from './production-rules';
import { checkRedisTopology } from './redis-rules';
import { secretsFromFiles } from './secret-settings';
import { isRecord } from '../http/is-record';

export type Env = Readonly<Record<string, string | undefined>>;

/** Start-up refuses to go on; `problems` lists every one found, in one message. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Tree = Record<string, unknown>;

/** Objects merge key by key; anything else (lists included) is replaced by the later file. */
function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const prev = out[k];
    out[k] = isRecord(prev) && isRecord(v) ? merge(prev, v) : v;
  }
  return out;
}

function setPath(tree: Tree, path: readonly string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node = node[key] = isRecord(next) ? { ...next } : {};
  }
  node[path[path.length - 1] as string] = value;
}

function readYaml(file: string, problems: string[]): Tree {
  if (!existsSync(file)) return {};
  try {
    const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
    if (parsed === null || parsed === undefined) return {};
    if (isRecord(parsed)) return parsed;
    problems.push(`${file}: must hold a mapping at the top level`);
  } catch (err) {
    problems.push(`${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  return {};
}

/**
 * Builds the one typed configuration: `config/default.yaml`, then `config/<APP_ENV>.yaml`,
 * then the environment, which wins. Secrets come from the environment only, as values or as
 * files it names (`<NAME>_FILE`).
 */
export function loadConfig(env: Env, configDir = join(process.cwd(), 'config')): AppConfig {
  const problems: string[] = [];
  const appEnv = env.APP_ENV || 'development';
  let tree = merge(
    readYaml(join(configDir, 'default.yaml'), problems),
    /^[a-z0-9-]+$/.test(appEnv) ? readYaml(join(configDir, `${appEnv}.yaml`), problems) : {},
  );
  tree = merge(tree, { appEnv });
  if ('vault' in tree) {
    // VAULT_TOKEN is a secret and the YAML files hold none: Vault settings come from the environment.
    problems.push('vault: set the VAULT_* variables in the environment, not in config/*.yaml');
    delete tree.vault;
  }
  const settings: Env = { ...env, ...secretsFromFiles(env, problems) };
  for (const s of ENV_SETTINGS) {
    const raw = settings[s.env];
    if (raw !== undefined && raw !== '') setPath(tree, s.path, s.parse ? s.parse(raw) : raw);
  }

  const gather = isRecord(tree.gather) ? tree.gather : {};
  const teamKeys: Tree = {};
  for (const [team, spec] of Object.entries(isRecord(gather.teamKeys) ? gather.teamKeys : {})) {
    teamKeys[team] = teamKeySource(team, spec, env, problems);
  }
  tree.gather = {
    ...gather,
    apiKey: keySourceFromEnv(env, 'GATHER_API_KEY', problems, true),
    readonlyApiKey: keySourceFromEnv(env, 'GATHER_READONLY_API_KEY', problems, false),
    teamKeys,
  };

  const server = isRecord(tree.server) ? tree.server : {};
  if (server.trustProxy === true) {
    problems.push(
      'TRUST_PROXY=true would trust any client-sent X-Forwarded-For; give a hop count or CIDRs',
    );
    tree.server = { ...server, trustProxy: false };
  }

  const parsed = configSchema.safeParse(tree);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // Key sources already reported their own problems above.
      if (
        issue.path[0] === 'gather' &&
        /^(apiKey|readonlyApiKey|teamKeys)$/.test(String(issue.path[1]))
      )
        continue;
      problems.push(`${settingName(issue.path)}: ${issue.message}`);
    }
  }
  // The rules run on whatever did parse, so one message lists every problem.
  checkRules(tree, problems);
  checkRedisTopology(isRecord(tree.session) ? tree.session : {}, problems);
  checkProductionRules(tree, problems);
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const config = parsed.data;
  if (config.server.allowedOrigins.length === 0) {
    config.server.allowedOrigins = [new URL(config.server.publicUrl).origin];
  }
  return config;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Rules that span settings or guard against unsafe values the schema alone cannot see. They
 * read the merged tree defensively: a value the schema rejected is simply skipped here.
 */
function checkRules(tree: Tree, problems: string[]): void {
  const session = isRecord(tree.session) ? tree.session : {};
  const server = isRecord(tree.server) ? tree.server : {};
  const secrets = Array.isArray(session.secrets) ? session.secrets : [];
  if (secrets.length === 0)
    problems.push('SESSION_SECRET: required (32 or more random characters)');
  secrets.forEach((secret: unknown, i) => {
    const which = i === 0 ? 'SESSION_SECRET' : `SESSION_SECRET (entry ${i + 1})`;
    if (typeof secret !== 'string' || secret.length < 32)
      problems.push(`${which}: must be at least 32 characters`);
  });
  const publicUrl = str(server.publicUrl);
  const secure = session.cookieSecure;
  if ((secure === false || secure === 'false') && publicUrl !== undefined) {
    if (!/^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?\/?$/.test(publicUrl)) {
      problems.push(
        'COOKIE_SECURE=false is only allowed with a PUBLIC_URL of http://localhost or http://127.0.0.1',
      );
    }
  }
  const origins = Array.isArray(server.allowedOrigins) ? (server.allowedOrigins as unknown[]) : [];
  for (const origin of origins) {
    if (!isOrigin(origin))
      problems.push(`ALLOWED_ORIGINS: "${String(origin)}" is not an origin (scheme://host[:port])`);
  }
  const idle = Number(session.idleTimeoutSeconds);
  const absolute = Number(session.absoluteTimeoutSeconds);
  if (absolute < idle) {
    problems.push(
      'SESSION_ABSOLUTE_TIMEOUT_SECONDS must not be shorter than SESSION_IDLE_TIMEOUT_SECONDS',
    );
  }
}

function isOrigin(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}
