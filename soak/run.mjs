// npm run soak: the built BFF (`node dist/main.js`, its own process, Redis stores) under a fixed
// request rate for minutes, with 1% of requests aborted by the client, 1% left unanswered by
// Gather until GATHER_TIMEOUT_MS and 1% reset by Gather. Every SOAK_SAMPLE_SECONDS it prints the
// BFF's resident memory, heap, open handles and event-loop delay (from its /metrics) and the
// Redis key count. After the warm-up, the run fails (exit 1) when a series trends: the median of
// the last third of the samples (for the heap, its lowest) above that of the first third by more
// than the tolerance.
// Also fails on an answer the contract does not give for its kind. Never part of `npm test`.
//
// SOAK_SECONDS (180), SOAK_RATE (requests per second, 50), SOAK_SAMPLE_SECONDS (5),
// SOAK_WARMUP_SECONDS (20), SOAK_TOLERANCE (0.25: +25%, over the per-series floors below);
// SOAK_BFF_NODE_OPTIONS, Node options for the BFF: `--max-old-space-size=64` tells a leak (the
// BFF runs out of heap) from a collector that is merely in no hurry (the heap stays flat).
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { PUBLIC_URL, SPA_HEADERS, nodeFlags, signIn, writeUsers } from '../bench/bff.mjs';
import { assertRunning, killAllNow, start, stopAll, waitUntil } from '../bench/processes.mjs';
import { redisInstalled, startRedis } from '../bench/redis.mjs';
import { freePort } from '../src/http/free-port.ts';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 180);
const RATE = Number(process.env.SOAK_RATE ?? 50);
const SAMPLE_SECONDS = Number(process.env.SOAK_SAMPLE_SECONDS ?? 5);
const WARMUP_SECONDS = Number(process.env.SOAK_WARMUP_SECONDS ?? 20);
const TOLERANCE = Number(process.env.SOAK_TOLERANCE ?? 0.25);
const GATHER_TIMEOUT_MS = 1000;
const KEY = `qapi_soak${randomBytes(12).toString('hex')}`;
const ROOT = join(import.meta.dirname, '..');

/** What each series may grow by before the tolerance counts: noise, not a leak. */
const SERIES = [
  { name: 'rss MB', metric: 'process_resident_memory_bytes', scale: 1e-6, floor: 20 },
  // The used heap is a sawtooth whose peaks depend on when the collector runs: its troughs tell.
  { name: 'heap MB', metric: 'nodejs_heap_size_used_bytes', scale: 1e-6, floor: 10, troughs: true },
  { name: 'external MB', metric: 'nodejs_external_memory_bytes', scale: 1e-6, floor: 10 },
  { name: 'handles', metric: 'nodejs_active_handles_total', scale: 1, floor: 20 },
  { name: 'loop p99 ms', metric: 'nodejs_eventloop_lag_p99_seconds', scale: 1e3, floor: 50 },
  { name: 'redis keys', metric: null, scale: 1, floor: 20 },
];

const dir = mkdtempSync(join(tmpdir(), 'gather-soak-'));
const run = promisify(execFile);
process.once('exit', () => {
  killAllNow();
  rmSync(dir, { recursive: true, force: true });
});

/** Gather with faults on demand: `/timeout` never answers, `/reset` resets, `/slow` takes 200 ms. */
async function startFaultyGather() {
  const server = createServer((req, res) => {
    const path = req.url.split('?')[0];
    if (req.headers['x-api-key'] !== KEY) return void res.writeHead(401).end();
    if (path.endsWith('/timeout')) return;
    if (path.endsWith('/reset')) return void req.socket.resetAndDestroy();
    const answer = () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"data":[{"id":1,"text":"How are you?"}]}');
    };
    if (path.endsWith('/slow')) setTimeout(answer, 200);
    else answer();
  });
  server.keepAliveTimeout = 75_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, baseUrl: `http://127.0.0.1:${server.address().port}/qsi/gather` };
}

/** The BFF as bench/bff.mjs starts it, plus the metrics port and timeout the soak reads and needs. */
async function startSoakBff(gatherBaseUrl, usersFile, redisUrl) {
  const port = await freePort();
  const metricsPort = await freePort();
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    APP_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL,
    COOKIE_SECURE: 'false',
    SESSION_SECRET: randomBytes(32).toString('hex'),
    GATHER_API_KEY: KEY,
    GATHER_BASE_URL: gatherBaseUrl,
    GATHER_TIMEOUT_MS: String(GATHER_TIMEOUT_MS),
    AUTH_LOCAL_USERS_FILE: usersFile,
    METRICS_PORT: String(metricsPort),
    RATE_LIMIT_USER_LIMIT: '1000000000',
    REDIS_URL: redisUrl,
    LOG_LEVEL: 'warn',
    NODE_OPTIONS: process.env.SOAK_BFF_NODE_OPTIONS ?? '',
  };
  const proc = start('bff', process.execPath, [...nodeFlags(), join(ROOT, 'dist', 'main.js')], {
    env,
    cwd: ROOT,
    logFile: join(dir, 'bff.log'),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(proc, 'ready', async () => (await fetch(`${url}/readyz`)).status === 200);
  return { proc, url, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
}

/** One request of a kind, and whether its answer is the contract's for that kind. */
async function one(url, cookie, kind) {
  const path = { ok: 'questions', abort: 'slow', timeout: 'timeout', reset: 'reset' }[kind];
  const signal = kind === 'abort' ? AbortSignal.timeout(20) : AbortSignal.timeout(10_000);
  try {
    const res = await fetch(`${url}/api/gather/${path}`, {
      headers: { ...SPA_HEADERS, cookie },
      signal,
    });
    await res.arrayBuffer();
    const expected = { ok: 200, abort: 200, timeout: 504, reset: 502 }[kind];
    return res.status === expected ? 'ok' : `${kind}: ${res.status}`;
  } catch (err) {
    return kind === 'abort' ? 'ok' : `${kind}: ${err.name}`;
  }
}

const pickKind = () => {
  const r = Math.random();
  return r < 0.01 ? 'abort' : r < 0.02 ? 'timeout' : r < 0.03 ? 'reset' : 'ok';
};

async function sample(metricsUrl, redisPort) {
  const text = await (await fetch(metricsUrl)).text();
  const values = {};
  for (const s of SERIES) {
    if (s.metric === null) {
      const { stdout } = await run('redis-cli', ['-p', String(redisPort), 'dbsize']);
      values[s.name] = Number(stdout.trim());
    } else {
      const m = new RegExp(`^${s.metric}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
      values[s.name] = m ? Number(m[1]) * s.scale : NaN;
    }
  }
  return values;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  if (!redisInstalled()) throw new Error('the soak needs redis-server and redis-cli on PATH');
  const gather = await startFaultyGather();
  const redis = await startRedis(dir);
  const users = await writeUsers(dir);
  const bff = await startSoakBff(gather.baseUrl, users.file, redis.url);
  const cookie = await signIn(bff.url, users);
  console.log(
    `soak: ${SECONDS} s at ${RATE} requests/s (1% aborts, 1% Gather timeouts, 1% resets), ` +
      `a sample every ${SAMPLE_SECONDS} s, warm-up ${WARMUP_SECONDS} s, tolerance ${TOLERANCE * 100}%`,
  );
  console.log(['t s', 'requests', ...SERIES.map((s) => s.name)].join('\t'));

  const startedAt = Date.now();
  const pending = new Set();
  const wrong = new Map();
  const samples = [];
  let sent = 0;
  let nextSample = startedAt + SAMPLE_SECONDS * 1000;
  // A fixed rate: each request is due at startedAt + n / RATE, whatever the answers do.
  while (Date.now() - startedAt < SECONDS * 1000) {
    const due = startedAt + (sent * 1000) / RATE;
    if (due > Date.now()) await sleep(due - Date.now());
    const p = one(bff.url, cookie, pickKind()).then((outcome) => {
      if (outcome !== 'ok') wrong.set(outcome, (wrong.get(outcome) ?? 0) + 1);
      pending.delete(p);
    });
    pending.add(p);
    sent += 1;
    if (Date.now() >= nextSample) {
      nextSample += SAMPLE_SECONDS * 1000;
      assertRunning(bff.proc);
      const t = Math.round((Date.now() - startedAt) / 1000);
      const values = await sample(bff.metricsUrl, redis.port);
      samples.push({ t, values });
      console.log([t, sent, ...SERIES.map((s) => values[s.name].toFixed(1))].join('\t'));
    }
  }
  await Promise.all(pending);

  const failures = [...wrong].map(([what, n]) => `${n} × unexpected answer (${what})`);
  const measured = samples.filter((s) => s.t > WARMUP_SECONDS);
  if (measured.length < 6) {
    failures.push(`only ${measured.length} samples after the warm-up: run longer to judge a trend`);
  } else {
    const third = Math.floor(measured.length / 3);
    for (const s of SERIES) {
      const level = s.troughs ? (xs) => Math.min(...xs) : median;
      const first = level(measured.slice(0, third).map((x) => x.values[s.name]));
      const last = level(measured.slice(-third).map((x) => x.values[s.name]));
      const limit = first * (1 + TOLERANCE) + s.floor;
      const verdict = last > limit ? 'TREND' : 'flat';
      console.log(
        `${s.name}: first third ${first.toFixed(1)}, last third ${last.toFixed(1)} (limit ${limit.toFixed(1)}) ${verdict}`,
      );
      if (last > limit)
        failures.push(`${s.name} grew from ${first.toFixed(1)} to ${last.toFixed(1)}`);
    }
  }
  await stopAll();
  gather.server.closeAllConnections();
  gather.server.close();
  if (failures.length > 0) {
    console.error(`soak FAILED:\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  } else console.log(`soak passed: ${sent} requests, every answer the contract's`);
}

main().catch(async (err) => {
  console.error(`soak could not run: ${err.message}`);
  await stopAll();
  process.exit(2);
});
