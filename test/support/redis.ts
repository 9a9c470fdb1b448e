import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import type { RedisClient } from '../../src/redis/redis-client';
import { freePort } from './free-port';

/** The shared Redis the environment runs; tests write only under a prefix of their own. */
export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

/** A key prefix no other run uses, under the rate limiter's `gbff:rl:`. */
export function uniquePrefix(): string {
  return `gbff:rl:test-${randomUUID()}:`;
}

/** Deletes every key under `prefix` (and nothing else) on the Redis at `url`. */
export async function flushPrefix(url: string, prefix: string): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) await client.unlink(keys);
    }
  } finally {
    client.destroy();
  }
}

/** Resolves once something accepts TCP connections on the port. */
async function waitForPort(port: number, deadlineMs = 10_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`redis-server did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A private `redis-server` on a free loopback port, to stop and start again at will. */
export interface SpawnedRedis {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGKILL: like a crash, no goodbye to clients). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open, nothing is answered; `resume` thaws it. */
  pause(): void;
  resume(): void;
}

export async function spawnRedis(): Promise<SpawnedRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const redis: SpawnedRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      if (child) return;
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      );
      await waitForPort(port);
      // Someone else took the port between our check and the spawn: do not test against theirs.
      if (child.exitCode !== null) throw new Error(`redis-server could not listen on ${port}`);
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async stop() {
      const running = child;
      if (!running) return;
      child = undefined;
      if (
        running.exitCode === null &&
        (running.signalCode === null || running.signalCode === 'SIGSTOP')
      ) {
        running.kill('SIGKILL');
        await once(running, 'exit');
      }
    },
  };
  await redis.start();
  return redis;
}

/** A plain client for a test's own look at Redis; connection errors are the test's to assert. */
export async function connectRedis(url: string): Promise<RedisClient> {
  const client: RedisClient = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}
