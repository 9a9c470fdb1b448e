import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient, type RedisClientType } from 'redis';
import type { RedisClient } from '../../src/redis/redis-client';
import { freePort } from '../../src/http/free-port';
import { tempDir } from './temp-dir';

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

/** `redis-server` with `args`, once it listens on `port`; SIGKILL on `kill` (a crash, no goodbye). */
async function startServer(port: number, args: readonly string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', [...args, '--port', String(port), '--bind', '127.0.0.1'], {
    stdio: 'ignore',
  });
  await waitForPort(port);
  // Someone else took the port between our check and the spawn: do not test against theirs.
  if (child.exitCode !== null) throw new Error(`redis-server could not listen on ${port}`);
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && (child.signalCode === null || child.signalCode === 'SIGSTOP')) {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
}

/** In memory only: nothing written to disk, whatever the distribution's defaults. */
const EPHEMERAL = ['--save', '', '--appendonly', 'no'];

export async function spawnRedis(): Promise<SpawnedRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const redis: SpawnedRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      if (child) return;
      child = await startServer(port, EPHEMERAL);
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
      await kill(running);
    },
  };
  await redis.start();
  return redis;
}

/** A client of one server on loopback; connection errors are the caller's to see. */
async function connectNode(port: number, password?: string): Promise<RedisClientType> {
  const client: RedisClientType = createClient({
    socket: { host: '127.0.0.1', port, reconnectStrategy: false },
    ...(password === undefined ? {} : { password }),
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Asks one server once; `undefined` while it cannot answer. */
async function ask(port: number, args: string[], password?: string): Promise<unknown> {
  let client: RedisClientType | undefined;
  try {
    client = await connectNode(port, password);
    return await client.sendCommand(args);
  } catch {
    return undefined;
  } finally {
    client?.destroy();
  }
}

/** A SENTINEL REPLICAS entry: a map in RESP3, a flat `[k1, v1, k2, v2]` list in RESP2. */
const fields = (entry: unknown): Record<string, unknown> => {
  if (!Array.isArray(entry)) return typeof entry === 'object' && entry !== null ? { ...entry } : {};
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < entry.length; i += 2) out[String(entry[i])] = entry[i + 1];
  return out;
};

/** Polls `probe` every 100 ms until it returns a value, failing after `deadlineMs`. */
async function poll<T>(what: string, probe: () => Promise<T | undefined>, deadlineMs: number) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A Sentinel deployment on loopback: a master, one replica and one Sentinel watching them under
 * `masterName`, with `password` on both data nodes (REDIS_PASSWORD), in a temp folder of its own.
 */
export interface SpawnedSentinel {
  readonly masterName: string;
  readonly password: string;
  /** As REDIS_SENTINELS takes it. */
  readonly sentinels: string;
  /** The data node Sentinel names as master now. */
  masterPort(): Promise<number>;
  /** Resolves once every write the master took so far is on the replica (WAIT). */
  replicated(): Promise<void>;
  /** SENTINEL FAILOVER; resolves with the new master's port once Sentinel names it. */
  failover(): Promise<number>;
  stop(): Promise<void>;
}

/** Generous: start-up and a failover take seconds, more on a loaded machine. */
const TOPOLOGY_DEADLINE_MS = 60_000;

export async function spawnSentinel(): Promise<SpawnedSentinel> {
  const masterName = 'gather-bff';
  const password = `pw-${randomUUID()}`;
  const dir = await tempDir('gather-sentinel-');
  const [masterPort, replicaPort, sentinelPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const auth = ['--requirepass', password, '--masterauth', password, '--dir', dir, ...EPHEMERAL];
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.splice(0).map(kill));
  };
  try {
    children.push(await startServer(masterPort, auth));
    children.push(
      await startServer(replicaPort, [...auth, '--replicaof', '127.0.0.1', String(masterPort)]),
    );
    // Started once the replica is in sync, so Sentinel finds it in the master's first INFO.
    await poll(
      'replica in sync',
      async () => {
        const info = await ask(replicaPort, ['INFO', 'replication'], password);
        return typeof info === 'string' && info.includes('master_link_status:up')
          ? true
          : undefined;
      },
      TOPOLOGY_DEADLINE_MS,
    );
    const conf = join(dir, 'sentinel.conf');
    await writeFile(
      conf,
      [
        `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} 1`,
        `sentinel auth-pass ${masterName} ${password}`,
        `sentinel down-after-milliseconds ${masterName} 2000`,
        `sentinel failover-timeout ${masterName} 10000`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    children.push(await startServer(sentinelPort, [conf, '--sentinel', '--dir', dir]));
    await poll(
      'Sentinel sees a healthy replica',
      async () => {
        const replicas = await ask(sentinelPort, ['SENTINEL', 'REPLICAS', masterName]);
        const healthy = Array.isArray(replicas)
          ? replicas
              .map(fields)
              .some((r) => r.flags === 'slave' && r['master-link-status'] === 'ok')
          : false;
        return healthy ? true : undefined;
      },
      TOPOLOGY_DEADLINE_MS,
    );
  } catch (err) {
    await stop();
    throw err;
  }

  const masterNow = async (): Promise<number> => {
    const reply = await ask(sentinelPort, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName]);
    if (!Array.isArray(reply)) throw new Error('Sentinel did not name a master');
    return Number(reply[1]);
  };
  return {
    masterName,
    password,
    sentinels: `127.0.0.1:${sentinelPort}`,
    masterPort: masterNow,
    async replicated() {
      const reply = await ask(await masterNow(), ['WAIT', '1', '10000'], password);
      if (reply !== 1) throw new Error(`WAIT reached ${String(reply)} replicas, not 1`);
    },
    async failover() {
      const before = await masterNow();
      // Sentinel refuses (NOGOODREPLICA) until it has fresh news of the replica: ask again.
      await poll(
        'SENTINEL FAILOVER accepted',
        async () =>
          (await ask(sentinelPort, ['SENTINEL', 'FAILOVER', masterName])) === 'OK'
            ? true
            : undefined,
        TOPOLOGY_DEADLINE_MS,
      );
      return poll(
        'Sentinel names the new master',
        async () => {
          const now = await masterNow();
          return now === before ? undefined : now;
        },
        TOPOLOGY_DEADLINE_MS,
      );
    },
    stop,
  };
}

/** A Redis Cluster of masters on loopback, `password` on every node, in a temp folder of its own. */
export interface SpawnedCluster {
  readonly password: string;
  /** As REDIS_CLUSTER_NODES takes it. */
  readonly nodes: string;
  stop(): Promise<void>;
}

export async function spawnCluster(size = 3): Promise<SpawnedCluster> {
  const password = `pw-${randomUUID()}`;
  const dir = await tempDir('gather-cluster-');
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.splice(0).map(kill));
  };
  const ports: number[] = [];
  try {
    for (let i = 0; i < size; i++) {
      const [port, busPort] = [await freePort(), await freePort()];
      ports.push(port);
      children.push(
        await startServer(port, [
          ...EPHEMERAL,
          '--dir',
          dir,
          '--requirepass',
          password,
          '--masterauth',
          password,
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          // Explicit: the default (port + 10000) may not exist or may be taken.
          '--cluster-port',
          String(busPort),
        ]),
      );
    }
    await createCluster(ports, password);
    await poll(
      'cluster_state:ok on every node',
      async () => {
        const infos = await Promise.all(ports.map((p) => ask(p, ['CLUSTER', 'INFO'], password)));
        return infos.every((i) => typeof i === 'string' && i.includes('cluster_state:ok'))
          ? true
          : undefined;
      },
      TOPOLOGY_DEADLINE_MS,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { password, nodes: ports.map((p) => `127.0.0.1:${p}`).join(','), stop };
}

/** `redis-cli --cluster create`: spreads the slots over the nodes and introduces them. */
async function createCluster(ports: readonly number[], password: string): Promise<void> {
  const cli = spawn(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ],
    // REDISCLI_AUTH rather than -a: the password stays off the command line.
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, REDISCLI_AUTH: password } },
  );
  let stderr = '';
  cli.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => cli.kill('SIGKILL'), TOPOLOGY_DEADLINE_MS);
  const [code] = (await once(cli, 'exit')) as [number | null];
  clearTimeout(timer);
  if (code !== 0) throw new Error(`redis-cli --cluster create exited ${String(code)}: ${stderr}`);
}

/** A plain client for a test's own look at Redis; connection errors are the test's to assert. */
export async function connectRedis(url: string): Promise<RedisClient> {
  const client: RedisClient = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}
