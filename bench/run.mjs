// npm run bench: what the BFF costs on its hot path, GET /api/gather/questions?limit=10 for a
// signed-in SPA, measured against the same stand-in Gather called directly and a bare node:http
// proxy doing the same header work. Each of them, the BFF (with memory stores, and with Redis
// stores on a Redis of its own) and every load run is a separate process; this one only
// orchestrates. After a warm-up, rounds alternate the targets' order so that machine noise hits
// all alike; the table shows medians across rounds, then issue #8's targets as PASS or MISS.
// The load generator and the targets share the machine's cores: the same for every target, so
// the ratios stay fair while the absolute numbers do not travel.
//
// BENCH_ROUNDS (5), BENCH_SECONDS (5 per run), BENCH_WARMUP_SECONDS (5); BENCH_NGINX names an
// nginx binary not on PATH. BENCH_OTLP=1 adds bff-otlp: the memory BFF exporting a server and a
// client span per request to a sink process over OTLP/HTTP, to show what span export costs.
// Exits 0 whatever the verdicts, unless BENCH_STRICT=1 (then 1 on any MISS); 2 when the bench
// itself cannot run. Never part of `npm test`.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { constants, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PUBLIC_URL, SPA_HEADERS, signIn, startBff, writeUsers } from './bff.mjs';
import { QUESTIONS, startGather } from './gather-stand-in.mjs';
import {
  assertRunning,
  freePort,
  killAllNow,
  logTail,
  rssMB,
  start,
  stopAll,
  waitUntil,
} from './processes.mjs';
import { addDelta, describeUse, redisCounters, redisInstalled, startRedis } from './redis.mjs';
import {
  fixed,
  paired,
  referenceLines,
  summarize,
  table,
  verdictLines,
  verdicts,
} from './report.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
// Long enough for V8 to have compiled the BFF's hot path: after 2 s at full load a BFF still
// spent ~45 µs of CPU per request more in its compiler threads than a run later.
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const STRICT = process.env.BENCH_STRICT === '1';
const OTLP = process.env.BENCH_OTLP === '1';
const CONCURRENCY = [1, 32];
const CALL = '/api/gather/questions?limit=10';

const dir = mkdtempSync(join(tmpdir(), 'gather-bench-'));
let stopping;
let otlpSink;
let interrupted = false;
const cleanUp = () =>
  (stopping ??= stopAll().finally(() => rmSync(dir, { recursive: true, force: true })));
process.once('exit', () => {
  killAllNow();
  rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping the targets`);
    void cleanUp().then(() => process.exit(128 + constants.signals[signal]));
  });
}

/** A reference proxy (bare-proxy.mjs or engine-proxy.mjs) in its own process. */
async function startReference(name, script, gatherBaseUrl, apiKey) {
  const port = await freePort();
  const proc = start(name, process.execPath, [join(import.meta.dirname, script)], {
    env: { PORT: String(port), GATHER_BASE_URL: gatherBaseUrl, GATHER_API_KEY: apiKey, PUBLIC_URL },
    logFile: join(dir, `${name}.log`),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(proc, 'answering', async () => (await fetch(`${url}/healthz`)).status === 404);
  return { proc, url };
}

/** The OTLP sink for BENCH_OTLP=1; `stats()` says what it received. */
async function startOtlpSink() {
  const port = await freePort();
  const proc = start('otlp-sink', process.execPath, [join(import.meta.dirname, 'otlp-sink.mjs')], {
    env: { PORT: String(port) },
    logFile: join(dir, 'otlp-sink.log'),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(proc, 'answering', async () => (await fetch(`${url}/stats`)).status === 200);
  return { url, stats: async () => (await fetch(`${url}/stats`)).json() };
}

async function startTargets() {
  const apiKey = `qapi_${randomBytes(24).toString('base64url')}`;
  const gather = await startGather(dir, apiKey);
  const users = await writeUsers(dir);
  const options = { gatherBaseUrl: gather.baseUrl, apiKey, usersFile: users.file };
  const bare = await startReference('bare', 'bare-proxy.mjs', gather.baseUrl, apiKey);
  const engine = await startReference('engine', 'engine-proxy.mjs', gather.baseUrl, apiKey);
  const memory = await startBff('bff-memory', dir, options);
  const redis = redisInstalled() ? await startRedis(dir) : null;
  const onRedis = redis && (await startBff('bff-redis', dir, { ...options, redisUrl: redis.url }));
  const memoryCookie = await signIn(memory.url, users);
  const spa = (cookie) => ({ ...SPA_HEADERS, cookie });
  const targets = [
    {
      name: 'direct',
      proc: gather.proc,
      url: `${gather.baseUrl}/questions?limit=10`,
      headers: { 'x-api-key': apiKey },
    },
    // The bare proxy gets the browser's cookie too: dropping it is part of the work.
    { name: 'bare', proc: bare.proc, url: `${bare.url}${CALL}`, headers: spa(memoryCookie) },
    { name: 'engine', proc: engine.proc, url: `${engine.url}${CALL}`, headers: spa(memoryCookie) },
    {
      name: 'bff-memory',
      proc: memory.proc,
      url: `${memory.url}${CALL}`,
      headers: spa(memoryCookie),
    },
  ];
  if (OTLP) {
    otlpSink = await startOtlpSink();
    const exporting = await startBff('bff-otlp', dir, { ...options, otlpEndpoint: otlpSink.url });
    targets.push({
      name: 'bff-otlp',
      proc: exporting.proc,
      url: `${exporting.url}${CALL}`,
      headers: spa(await signIn(exporting.url, users)),
    });
  }
  if (onRedis) {
    const cookie = await signIn(onRedis.url, users);
    targets.push({
      name: 'bff-redis',
      proc: onRedis.proc,
      url: `${onRedis.url}${CALL}`,
      headers: spa(cookie),
      redis,
    });
  }
  return targets;
}

/** One request per target before any load: each must answer 200 with Gather's exact body. */
async function preflight(targets) {
  for (const t of targets) {
    const res = await fetch(t.url, { headers: t.headers });
    const body = await res.text();
    if (res.status !== 200 || body !== QUESTIONS) {
      throw new Error(`${t.name} answered ${res.status} ${body.slice(0, 300)}`);
    }
  }
}

async function load(target, connections, seconds) {
  const options = JSON.stringify({
    url: target.url,
    connections,
    seconds,
    headers: target.headers,
  });
  // In the environment rather than argv: the session cookie stays out of `ps`.
  const proc = start('load', process.execPath, [join(import.meta.dirname, 'load.mjs')], {
    env: { BENCH_LOAD: options },
    logFile: join(dir, 'load.log'),
    pipe: true,
  });
  let out = '';
  proc.child.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
  await new Promise((resolve) => proc.child.once('close', resolve));
  if (proc.exited !== 'code 0') throw new Error(`load generator: ${proc.exited}\n${logTail(proc)}`);
  assertRunning(target.proc);
  return { ...JSON.parse(out), rssMB: rssMB(target.proc.child.pid) };
}

/** Lines in a file, without holding it as a string. */
function countLines(file) {
  const bytes = readFileSync(file);
  let lines = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) lines++;
  return lines;
}

const progress = (round, c, t, r) =>
  console.log(
    `round ${round}/${ROUNDS}  c=${String(c).padEnd(2)}  ${t.name.padEnd(10)}  ` +
      `${fixed(r.rps, 0).padStart(6)} req/s  p50 ${fixed(r.p50Ms, 3)} ms  ` +
      `p99 ${fixed(r.p99Ms, 3)} ms  non-2xx ${r.non2xx}  errors ${r.errors}`,
  );

/**
 * Warm-up, then the rounds. Returns every measured run by `target@c`, Redis's counters per
 * concurrency, requests sent per target (warm-up included) and the warm-up's failures.
 */
async function measure(targets) {
  const sent = new Map(targets.map((t) => [t.name, 0]));
  const count = (t, r) => sent.set(t.name, sent.get(t.name) + r.requests);
  let warmupFailures = 0;
  for (const t of targets) {
    for (const c of CONCURRENCY) {
      const r = await load(t, c, WARMUP_SECONDS);
      warmupFailures += r.non2xx + r.errors;
      count(t, r);
    }
  }
  const runs = new Map();
  const redisUse = new Map(CONCURRENCY.map((c) => [c, { commands: {}, reads: 0, calls: 0 }]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]);
    for (const c of CONCURRENCY) {
      for (const t of order) {
        const before = t.redis && (await redisCounters(t.redis));
        const r = await load(t, c, SECONDS);
        if (t.redis) addDelta(redisUse.get(c), before, await redisCounters(t.redis), r.requests);
        count(t, r);
        runs.set(`${t.name}@${c}`, [...(runs.get(`${t.name}@${c}`) ?? []), r]);
        progress(round + 1, c, t, r);
      }
    }
  }
  return { runs, redisUse, sent, warmupFailures };
}

async function main() {
  const began = Date.now();
  console.log(
    `bench: ${ROUNDS} round(s) of ${SECONDS} s per target and concurrency after ${WARMUP_SECONDS} s ` +
      `of warm-up; ${cpus().length} cores shared by the load generator and the targets ` +
      `(load average ${loadavg()[0].toFixed(1)} at start)`,
  );
  const targets = await startTargets();
  for (const t of targets) {
    const rss = rssMB(t.proc.child.pid).toFixed(1);
    console.log(`${t.name.padEnd(10)}  ${t.proc.name.padEnd(14)}  RSS at start ${rss} MB`);
  }
  if (!targets.some((t) => t.redis)) console.log('redis-server not found: bff-redis skipped');
  await preflight(targets);

  const { runs, redisUse, sent, warmupFailures } = await measure(targets);
  const summaries = new Map([...runs].map(([key, rs]) => [key, summarize(rs)]));
  const get = (name, c) => summaries.get(`${name}@${c}`);
  const runsOf = (name, c) => runs.get(`${name}@${c}`);
  const rows = CONCURRENCY.flatMap((c) =>
    targets.map((t) => ({ target: t.name, c, ...get(t.name, c) })),
  );
  console.log(`\nMedians of ${ROUNDS} round(s), ${SECONDS} s each; RSS: the most after a run\n`);
  console.log(table(rows));
  console.log('');
  for (const t of targets.filter((t) => t.name.startsWith('bff'))) {
    const lines = countLines(t.proc.logFile);
    const perRequest = (lines / sent.get(t.name)).toFixed(3);
    console.log(`${t.name} log file: ${lines} lines, ${perRequest} per load request`);
  }
  for (const [c, use] of redisUse) {
    if (use.calls > 0) console.log(`bff-redis c=${c}: ${describeUse(use)}`);
  }
  if (otlpSink) {
    const { exports, bytes } = await otlpSink.stats();
    const ratio = paired(runsOf, ['bff-otlp', 32], ['bff-memory', 32], (a, b) => a.rps / b.rps);
    console.log(
      `bff-otlp: c=32 req/s ${fixed(ratio, 2)} x bff-memory's; the sink received ${exports} ` +
        `exports, ${fixed(bytes / 1e6, 1)} MB`,
    );
  }

  const list = verdicts(runsOf, get, warmupFailures);
  console.log(`\n${referenceLines(runsOf).join('\n')}`);
  console.log(`\n${verdictLines(list).join('\n')}`);
  console.log(`\nbench took ${((Date.now() - began) / 1000).toFixed(0)} s`);
  if (STRICT && list.some((v) => v.pass === false)) process.exitCode = 1;
}

try {
  await main();
} catch (err) {
  if (!interrupted) console.error(`bench failed: ${err.message}`);
  process.exitCode = 2;
} finally {
  await cleanUp();
}
