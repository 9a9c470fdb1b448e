import type { LoggerService } from '@nestjs/common';
import type { EventEmitter } from 'node:events';
// The core of the `redis` client: `redis` itself also loads the JSON, search, time-series and
// bloom modules (some 170 files, ~5 MB resident) for commands the BFF never sends.
import {
  createClient,
  createCluster,
  createSentinel,
  type RedisClientType,
  type RedisClusterType,
  type RedisSentinelType,
} from '@redis/client';
import { describeTopology, type RedisNode, type RedisTopology } from './redis-topology';

/** Members whose signatures differ between a single client, a Sentinel and a Cluster client. */
type Differing =
  | keyof EventEmitter
  | 'connect'
  | 'duplicate'
  | 'withCommandOptions'
  | 'withTypeMapping'
  | 'sendCommand'
  | 'MULTI'
  | 'multi'
  | 'UNSUBSCRIBE'
  | 'unsubscribe'
  | 'sUnsubscribe';
type Shared = Extract<keyof RedisClientType, keyof RedisSentinelType> & keyof RedisClusterType;

/**
 * The one Redis connection the BFF keeps (sessions and rate limits share it), whatever the
 * topology: the commands and state a single client, a Sentinel client and a Cluster client share,
 * with the single client's signatures. Every one of them is such a value, so the stores never ask
 * which kind they hold. On a Cluster a command goes to the node of its first key: an operation on
 * several keys must keep them on one hash slot (`{tag}` in each key).
 */
export type RedisClient = Pick<RedisClientType, Exclude<Shared, Differing>> & {
  connect(): Promise<unknown>;
  on(event: string, listener: Parameters<EventEmitter['on']>[1]): unknown;
};

/** A refused or silent server must not hold start-up or a request for long. */
export const REDIS_CONNECT_TIMEOUT_MS = 2000;
/**
 * How long a caller waits for a command: every store bounds its calls with `withDeadline`
 * (http/deadline.ts), which also covers a server that accepts commands but stopped answering.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 1000;
/**
 * node-redis's own command timeout (5 s unless set) is off: it only covers a command still
 * waiting to be written, and its `AbortSignal.timeout` keeps a timer and a signal alive for the
 * whole timeout after every command, so each request's Redis objects outlived the request and
 * piled up in the old generation (docs/benchmarks.md, "Memory").
 */
const commandOptions = { timeout: 0 };
/** What a command past its deadline fails with: the session store logs it when Redis stops answering. */
export const redisTimedOut = (): Error =>
  new Error(`Redis did not answer within ${REDIS_COMMAND_TIMEOUT_MS} ms`);
/**
 * How often the Sentinel client asks the Sentinels for the master even without news: it follows
 * a switch at once from Sentinel's `+switch-master` message, and within this interval when that
 * message was missed (its Sentinel connection was down at the time).
 */
export const SENTINEL_SCAN_INTERVAL_MS = 5000;
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 5000;

/**
 * Capped exponential backoff with jitter, forever: the client recovers by itself when Redis
 * comes back, and replicas that lost it together do not reconnect in lockstep.
 */
export function reconnectDelay(retries: number): number {
  const exponential = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(retries, 16));
  return Math.round(exponential / 2 + (Math.random() * exponential) / 2);
}

/** Per connection: never queue while disconnected, bounded connects, backoff forever. */
// A fresh object each time: node-redis adjusts the socket options it is given.
const socket = () => ({
  connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
  reconnectStrategy: reconnectDelay,
});
const tcp = (node: RedisNode) => ({ host: node.host, port: node.port });

function build(topology: RedisTopology): RedisClient {
  const password = topology.password === undefined ? {} : { password: topology.password };
  switch (topology.kind) {
    case 'single':
      return createClient({
        url: topology.url,
        ...password,
        disableOfflineQueue: true,
        commandOptions,
        socket: socket(),
      });
    case 'sentinel':
      return createSentinel({
        name: topology.master,
        sentinelRootNodes: topology.sentinels.map(tcp),
        nodeClientOptions: { ...password, disableOfflineQueue: true, socket: socket() },
        sentinelClientOptions: { socket: socket() },
        commandOptions,
        scanInterval: SENTINEL_SCAN_INTERVAL_MS,
      });
    case 'cluster':
      return createCluster({
        rootNodes: topology.seeds.map((node) => ({ socket: tcp(node) })),
        defaults: { ...password, disableOfflineQueue: true, socket: socket() },
        commandOptions,
      });
  }
}

const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Creates (does not connect) the client for a topology, or for a plain `redis://` URL, and logs
 * each change of its state once rather than every retry. Addresses are logged, never a password.
 */
export function createRedisClient(
  target: RedisTopology | string,
  logger: LoggerService,
): RedisClient {
  const topology: RedisTopology =
    typeof target === 'string' ? { kind: 'single', url: target } : target;
  const client = build(topology);
  const where = describeTopology(topology);
  let state: 'connecting' | 'ready' | 'down' = 'connecting';
  const ready = (): void => {
    state = 'ready';
    logger.log(`Redis ready at ${where}`);
  };
  const down = (err: unknown): void => {
    if (state === 'down') return;
    state = 'down';
    logger.warn(`Redis unavailable at ${where}: ${reason(err)}; reconnecting`);
  };
  const closed = (): void => {
    logger.log(`Redis connection to ${where} closed`);
  };
  // node-redis emits 'error' for every failed attempt; an unhandled one would crash the process.
  client.on('error', down);
  switch (topology.kind) {
    case 'single':
      client.on('ready', ready);
      client.on('end', closed);
      break;
    case 'sentinel':
      client.on('ready', ready);
      client.on('end', closed);
      // A master connection failing, e.g. the master going down before Sentinel fails it over.
      client.on('client-error', (event: { error: unknown }) => down(event.error));
      client.on('topology-change', (event: { type: string; node?: RedisNode }) => {
        if (event.type === 'MASTER_CHANGE' && event.node) {
          const { host, port } = event.node;
          logger.log(`Redis Sentinel master ${topology.master} switched to ${host}:${port}`);
        }
      });
      break;
    case 'cluster':
      // The Cluster client says 'connect' once it holds the slot map and its node connections.
      client.on('connect', ready);
      client.on('disconnect', closed);
      client.on('node-error', down);
      client.on('node-ready', () => {
        if (state === 'down') ready();
      });
      break;
  }
  return client;
}

/**
 * Connects in the background until it succeeds or the returned function is called. A single
 * client keeps retrying by itself; a Sentinel or Cluster client gives up when its first
 * connection fails (no Sentinel or seed answers), so that is tried again here, with backoff.
 */
export function keepConnecting(client: RedisClient): () => void {
  let stopped = false;
  let retries = 0;
  let timer: NodeJS.Timeout | undefined;
  const attempt = (): void => {
    if (stopped || client.isOpen) return;
    client.connect().catch(() => {
      if (!stopped) timer = setTimeout(attempt, reconnectDelay(retries++));
    });
  };
  attempt();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
