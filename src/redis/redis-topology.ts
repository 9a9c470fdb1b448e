import type { AppConfig } from '../config/config.schema';

/** A Redis server or Sentinel address, as configuration lists them (`host:port`). */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/**
 * Where the shared Redis is: one server (REDIS_URL), a Sentinel-managed master
 * (REDIS_SENTINELS + REDIS_SENTINEL_MASTER) or a Cluster (REDIS_CLUSTER_NODES). `password`
 * (REDIS_PASSWORD) is for the data nodes; configuration allows at most one kind.
 */
export type RedisTopology =
  | { readonly kind: 'single'; readonly url: string; readonly password?: string }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly RedisNode[];
      readonly master: string;
      readonly password?: string;
    }
  | { readonly kind: 'cluster'; readonly seeds: readonly RedisNode[]; readonly password?: string };

/** The configured topology, or undefined when sessions and counters stay in memory. */
export function redisTopology(session: AppConfig['session']): RedisTopology | undefined {
  const password = session.redisPassword;
  const withPassword = password === undefined ? {} : { password };
  if (session.redisUrl !== undefined) {
    return { kind: 'single', url: session.redisUrl, ...withPassword };
  }
  if (session.redisSentinels !== undefined && session.redisSentinelMaster !== undefined) {
    return {
      kind: 'sentinel',
      sentinels: session.redisSentinels,
      master: session.redisSentinelMaster,
      ...withPassword,
    };
  }
  if (session.redisClusterNodes !== undefined) {
    return { kind: 'cluster', seeds: session.redisClusterNodes, ...withPassword };
  }
  return undefined;
}

const address = (node: RedisNode): string =>
  node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`;

/** The URL without credentials, for log lines. */
export function redactRedisUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
}

/** Where the topology points, for log lines: addresses and names only, never a password. */
export function describeTopology(topology: RedisTopology): string {
  switch (topology.kind) {
    case 'single':
      return redactRedisUrl(topology.url);
    case 'sentinel':
      return `Sentinel master ${topology.master} via ${topology.sentinels.map(address).join(',')}`;
    case 'cluster':
      return `cluster ${topology.seeds.map(address).join(',')}`;
  }
}
