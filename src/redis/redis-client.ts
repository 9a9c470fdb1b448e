import type { LoggerService } from '@nestjs/common';
import { createClient, type RedisClientType } from 'redis';

/** The one Redis connection the BFF keeps (sessions and rate limits share it). */
export type RedisClient = RedisClientType;

/** A refused or silent server must not hold start-up or a request for long. */
export const REDIS_CONNECT_TIMEOUT_MS = 2000;
/**
 * The client's command timeout: it only covers a command still waiting to be written (node-redis
 * drops the timer once the command is on the socket), so callers also bound it with
 * `withDeadline` against a server that accepts commands but stopped answering.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 1000;
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

/**
 * Rejects when `command` has not settled within `ms`. A late reply is still read (replies stay in
 * order on the connection); only the caller stops waiting for it.
 */
export async function withDeadline<T>(
  command: Promise<T>,
  ms = REDIS_COMMAND_TIMEOUT_MS,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([command, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The URL without credentials, for log lines. */
export function redactRedisUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
}

/**
 * Creates (does not connect) a client that never queues commands while disconnected, bounds
 * every command, and logs each change of connection state once rather than every retry.
 */
export function createRedisClient(url: string, logger: LoggerService): RedisClient {
  const client: RedisClient = createClient({
    url,
    disableOfflineQueue: true,
    commandOptions: { timeout: REDIS_COMMAND_TIMEOUT_MS },
    socket: { connectTimeout: REDIS_CONNECT_TIMEOUT_MS, reconnectStrategy: reconnectDelay },
  });
  const where = redactRedisUrl(url);
  let state: 'connecting' | 'ready' | 'down' = 'connecting';
  client.on('ready', () => {
    state = 'ready';
    logger.log(`Redis ready at ${where}`);
  });
  // node-redis emits 'error' for every failed attempt; an unhandled one would crash the process.
  client.on('error', (err: Error) => {
    if (state === 'down') return;
    state = 'down';
    logger.warn(`Redis unavailable at ${where}: ${err.message}; reconnecting`);
  });
  client.on('end', () => {
    logger.log(`Redis connection to ${where} closed`);
  });
  return client;
}
