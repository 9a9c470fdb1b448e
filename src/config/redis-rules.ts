type Tree = Record<string, unknown>;

const present = (v: unknown): boolean =>
  v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);

/** Whether a `redis[s]://` URL carries a password; an unparsable one is the schema's to report. */
function urlHasPassword(url: unknown): boolean {
  if (typeof url !== 'string') return false;
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

/**
 * One Redis topology at most, and each complete: REDIS_URL, or REDIS_SENTINELS with
 * REDIS_SENTINEL_MASTER, or REDIS_CLUSTER_NODES; REDIS_PASSWORD only with one of them, and not
 * twice. Messages name the settings, never a value.
 */
export function checkRedisTopology(session: Tree, problems: string[]): void {
  const chosen = (
    [
      ['REDIS_URL', session.redisUrl],
      ['REDIS_SENTINELS', session.redisSentinels],
      ['REDIS_CLUSTER_NODES', session.redisClusterNodes],
    ] as const
  )
    .filter(([, value]) => present(value))
    .map(([name]) => name);
  if (chosen.length > 1) {
    problems.push(
      `${chosen.join(' and ')}: set at most one of REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES`,
    );
  }
  const sentinels = present(session.redisSentinels);
  const master = present(session.redisSentinelMaster);
  if (sentinels && !master) {
    problems.push(
      'REDIS_SENTINELS needs REDIS_SENTINEL_MASTER (the name the Sentinels know the master by)',
    );
  }
  if (master && !sentinels) {
    problems.push('REDIS_SENTINEL_MASTER is only used with REDIS_SENTINELS (the Sentinels to ask)');
  }
  if (present(session.redisPassword)) {
    if (chosen.length === 0 && !master) {
      problems.push(
        'REDIS_PASSWORD is set but no Redis is: set REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES',
      );
    }
    if (urlHasPassword(session.redisUrl)) {
      problems.push('REDIS_PASSWORD and a password in REDIS_URL: give the password once');
    }
  }
}
