import { fingerprint, looksLikeExampleKey } from './key-format';
import type { AppConfig } from './config.schema';
import { isPlaceholderSecret } from './secrets';
import { isRecord } from '../http/is-record';

type Tree = Record<string, unknown>;

const tree = (v: unknown): Tree => (isRecord(v) ? v : {});

/**
 * The SESSION_SECRET entries (named as the problems name them) long enough to use that look like
 * placeholders (a short one is refused anyway).
 */
function placeholderSecrets(secrets: unknown): string[] {
  return (Array.isArray(secrets) ? secrets : []).flatMap((secret: unknown, i) =>
    typeof secret === 'string' && secret.length >= 32 && isPlaceholderSecret(secret)
      ? [i === 0 ? 'SESSION_SECRET' : `SESSION_SECRET (entry ${i + 1})`]
      : [],
  );
}

/**
 * What APP_ENV=production refuses on top of the rules for every environment: cookies without
 * `Secure` (even on localhost), a session secret and keys that look copied from an example
 * (elsewhere a placeholder secret is a warning: tests and demos use them). Keys read from a file
 * or a secret manager get the same check when they are loaded (keys/).
 */
export function checkProductionRules(config: Tree, problems: string[]): void {
  if (config.appEnv !== 'production') return;
  for (const which of placeholderSecrets(tree(config.session).secrets)) {
    problems.push(`${which}: looks like a placeholder; generate a random value`);
  }
  const secure = tree(config.session).cookieSecure;
  if (secure === false || secure === 'false') {
    problems.push('COOKIE_SECURE=false is refused when APP_ENV=production, even on localhost');
  }
  const gather = tree(config.gather);
  const sources = [gather.apiKey, gather.readonlyApiKey, ...Object.values(tree(gather.teamKeys))];
  for (const source of sources.map(tree)) {
    if (source.kind !== 'value' || typeof source.value !== 'string') continue;
    if (looksLikeExampleKey(source.value)) {
      problems.push(
        `${String(source.name)} looks like an example key (fingerprint ${fingerprint(source.value)}); production needs a key issued by Gather`,
      );
    }
  }
}

/** Start-up warnings: allowed, but an operator should know (main.ts logs each one). */
export function configWarnings(config: AppConfig): string[] {
  const warnings: string[] = [];
  if (config.appEnv !== 'production') {
    for (const which of placeholderSecrets(config.session.secrets)) {
      warnings.push(
        `${which} looks like a placeholder: fine for a test, refused with APP_ENV=production`,
      );
    }
  }
  const { redisUrl, redisSentinels, redisClusterNodes } = config.session;
  const noRedis = [redisUrl, redisSentinels, redisClusterNodes].every((v) => v === undefined);
  if (config.appEnv === 'production' && noRedis) {
    warnings.push(
      'Sessions and rate limits are held in memory (no REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES): each replica has its own, and a restart signs every user out',
    );
  }
  return warnings;
}
