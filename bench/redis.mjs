// A throw-away Redis for the BFF's Redis stores (nothing persisted), and its counters: how many
// commands, and how many socket reads (each one a round trip the BFF waited for, less whatever
// requests the client pipelined together), the proxied calls cost.
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../src/http/free-port.ts';
import { start, waitUntil } from './processes.mjs';

const run = promisify(execFile);

export const redisInstalled = () => spawnSync('redis-server', ['--version']).status === 0;

export async function startRedis(dir) {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const proc = start('redis', 'redis-server', args, { logFile: join(dir, 'redis.log') });
  const ping = async () => (await run('redis-cli', ['-p', String(port), 'ping'])).stdout.trim();
  await waitUntil(proc, 'answering', async () => (await ping()) === 'PONG');
  return { proc, port, url: `redis://127.0.0.1:${port}` };
}

/** Calls per command (without this INFO's own) and total socket reads, right now. */
export async function redisCounters({ port }) {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'info', 'stats', 'commandstats']);
  const commands = {};
  for (const [, name, calls] of stdout.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (name !== 'info') commands[name] = Number(calls);
  }
  const reads = Number(/^total_reads_processed:(\d+)/m.exec(stdout)[1]);
  return { commands, reads };
}

/** Adds what Redis did between two snapshots, for `calls` proxied calls, to `use`. */
export function addDelta(use, before, after, calls) {
  for (const [name, n] of Object.entries(after.commands)) {
    use.commands[name] = (use.commands[name] ?? 0) + n - (before.commands[name] ?? 0);
  }
  use.reads += after.reads - before.reads;
  use.calls += calls;
}

export function describeUse({ commands, reads, calls }) {
  const used = Object.entries(commands).filter(([, n]) => n > 0);
  const total = used.reduce((sum, [, n]) => sum + n, 0);
  const each = used.map(([name, n]) => `${name} ${(n / calls).toFixed(2)}`).join(', ');
  return (
    `${(total / calls).toFixed(2)} Redis commands per proxied call (${each}); ` +
    `${(reads / calls).toFixed(2)} socket reads per call (round trips; one read carries ` +
    'whatever the client pipelined, across requests too)'
  );
}
