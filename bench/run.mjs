// npm run bench: what the BFF costs on its hot path, GET /api/gather/questions?limit=10 for a
// signed-in SPA, in CPU time per request, measured against the same stand-in Gather called
// directly, a bare node:http proxy doing the same header work, http-proxy-middleware alone with
// that header work (the engine reference) and the peer (the stack a team would write with the
// same packages). Every target and every load run is a process of its own; this one only
// orchestrates. Load comes from wrk (autocannon only as a named fallback). For each run the
// target's CPU time (utime + stime of its process tree) is read before and after; divided by
// the requests served it is the cost, which contention for the cores does not inflate the way
// it does req/s. After a warm-up, rounds alternate the targets' order; the report gives each
// target's spread over rounds, p99 from the rounds' merged histograms, and the verdicts.
// docs/benchmarks.md, Method.
//
// BENCH_ROUNDS (5), BENCH_SECONDS (5 per run), BENCH_WARMUP_SECONDS (5); BENCH_QUICK=1 makes
// those 1, 1 and 1 (a smoke run, numbers meaningless). BENCH_LOAD=wrk|autocannon picks the
// load generator. BENCH_NGINX names an nginx binary not on PATH. BENCH_OTLP=1 adds bff-otlp:
// the memory BFF exporting a server and a client span per request to a sink process.
// Exits 0 whatever the verdicts, unless BENCH_STRICT=1 (then 1 on any MISS or an untrustworthy
// run); 2 when the bench itself cannot run. Never part of `npm test`.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { constants, cpus, loadavg, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { freePort } from '../src/http/free-port.ts';
import { SPA_HEADERS, signIn, startBff, writeUsers } from './bff.mjs';
import { QUESTIONS, startGather } from './gather-stand-in.mjs';
import { pickLoadGenerator, runLoad } from './load.mjs';
import { startPeer } from './peer/start.mjs';
import { startReference } from './references.mjs';
import { cpuUs, killAllNow, logTail, rssMB, start, stopAll, waitUntil } from './processes.mjs';
import { addDelta, describeUse, redisCounters, redisInstalled, startRedis } from './redis.mjs';
import {
  failedStrict,
  fixed,
  judge,
  runResult,
  summarize,
  table,
  verdictLines,
} from './report.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 5));
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 1 : 5));
// Long enough for V8 to have compiled the BFF's hot path: after 2 s at full load a BFF still
// spent ~45 µs of CPU per request more in its compiler threads than a run later.
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? (QUICK ? 1 : 5));
const STRICT = process.env.BENCH_STRICT === '1';
const OTLP = process.env.BENCH_OTLP === '1';
/**
 * Other checkouts, built, whose BFFs run beside this one (before and after a change, in one
 * run): `before-<folder name>-memory` and `-redis`.
 */
const BEFORE = (process.env.BENCH_BEFORE ?? '')
  .split(',')
  .filter(Boolean)
  .map((dir) => ({ name: `before-${basename(resolve(dir))}`, root: resolve(dir) }));
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

/** target → why it stopped counting: it exited, or refused before the load. */
const failed = new Map();

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
  const spa = (cookie) => ({ ...SPA_HEADERS, cookie });
  const targets = [
    {
      name: 'direct',
      proc: gather.proc,
      url: `${gather.baseUrl}/questions?limit=10`,
      headers: { 'x-api-key': apiKey },
    },
  ];
  // One target that cannot start is a verdict, not the end of the run.
  const add = async (name, starter) => {
    try {
      targets.push({ name, ...(await starter()) });
    } catch (err) {
      console.error(`${name} did not start: ${err.message}`);
      failed.set(name, 'did not start');
    }
  };
  const bff = async (name, extra = {}) => {
    const b = await startBff(name, dir, { ...options, ...extra });
    return { proc: b.proc, url: `${b.url}${CALL}`, headers: spa(await signIn(b.url, users)) };
  };
  // The reference proxies get the browser's cookie too: dropping it is part of the work.
  const cookie = `connect.sid=${randomBytes(24).toString('base64url')}`;
  const reference = async (name, script) => {
    const r = await startReference(name, script, dir, options);
    return { proc: r.proc, url: `${r.url}${CALL}`, headers: spa(cookie) };
  };
  await add('bare', () => reference('bare', 'bare-proxy.mjs'));
  await add('engine', () => reference('engine', 'engine-proxy.mjs'));
  await add('diy', async () => {
    const p = await startPeer('diy', dir, options);
    return { proc: p.proc, url: `${p.url}${CALL}`, headers: spa(p.cookie) };
  });
  await add('bff-memory', () => bff('bff-memory'));
  if (OTLP) {
    otlpSink = await startOtlpSink();
    await add('bff-otlp', () => bff('bff-otlp', { otlpEndpoint: otlpSink.url }));
  }
  for (const { name, root } of BEFORE) {
    await add(`${name}-memory`, () => bff(`${name}-memory`, { root }));
  }
  if (redisInstalled()) {
    const redis = await startRedis(dir);
    await add('bff-redis', async () => ({
      ...(await bff('bff-redis', { redisUrl: redis.url })),
      redis,
    }));
    for (const { name, root } of BEFORE) {
      await add(`${name}-redis`, async () => ({
        ...(await bff(`${name}-redis`, { redisUrl: redis.url, root })),
        redis,
      }));
    }
  } else {
    console.log('redis-server not found: bff-redis skipped');
  }
  return targets;
}

/** One request per target before any load: each must answer 200 with Gather's exact body. */
async function preflight(targets) {
  for (const t of targets) {
    const res = await fetch(t.url, { headers: t.headers });
    const body = await res.text();
    if (res.status !== 200 || body !== QUESTIONS) {
      console.error(`${t.name} answered ${res.status} ${body.slice(0, 300)}`);
      failed.set(t.name, `answered ${res.status} before the load`);
    }
  }
}

/**
 * One load run against `t`, its CPU time read around it. undefined when the target stopped
 * during the run (it is then in `failed`, and its numbers would mean nothing).
 */
async function loadRun(generator, t, connections, seconds) {
  const stopped = () => {
    if (t.proc.exited === null) return false;
    console.error(`${t.name} stopped (${t.proc.exited}); its log ends:\n${logTail(t.proc)}`);
    failed.set(t.name, `exited (${t.proc.exited})`);
    return true;
  };
  if (stopped()) return undefined;
  const pid = t.proc.child.pid;
  const cpuBefore = cpuUs(pid);
  const redisBefore = t.redis && cpuUs(t.redis.proc.child.pid);
  let result;
  try {
    result = await runLoad(generator, t, { connections, seconds, logFile: join(dir, 'load.log') });
  } catch (err) {
    // wrk gives up when it cannot connect: a target that died is a verdict, not a crash.
    if (stopped()) return undefined;
    throw err;
  }
  if (stopped()) return undefined;
  const run = runResult(result, cpuUs(pid) - cpuBefore, rssMB(pid));
  if (t.redis) run.redisCpuUs = (cpuUs(t.redis.proc.child.pid) - redisBefore) / result.requests;
  return run;
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
      `${fixed(r.rps, 0).padStart(6)} req/s  ${fixed(r.cpuUs, 1).padStart(6)} µs CPU/req  ` +
      `p50 ${fixed(r.p50Ms, 3)} ms  p99 ${fixed(r.p99Ms, 3)} ms  ` +
      `non-2xx ${r.non2xx}  errors ${r.errors}`,
  );

/**
 * Warm-up, then the rounds. Returns every measured run by `target@c`, Redis's counters by
 * `target@c`, requests sent per target (warm-up included) and the warm-up's failures.
 */
async function measure(generator, targets) {
  const live = () => targets.filter((t) => !failed.has(t.name));
  const sent = new Map(targets.map((t) => [t.name, 0]));
  let warmupFailures = 0;
  for (const t of live()) {
    for (const c of CONCURRENCY) {
      const r = await loadRun(generator, t, c, WARMUP_SECONDS);
      if (!r) break;
      warmupFailures += r.non2xx + r.errors;
      sent.set(t.name, sent.get(t.name) + r.requests);
    }
  }
  const runs = new Map();
  /** `target@c` → its Redis use, for each target on Redis. */
  const redisUse = new Map();
  for (let round = 0; round < ROUNDS; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]);
    for (const c of CONCURRENCY) {
      for (const t of order.filter((t) => !failed.has(t.name))) {
        const before = t.redis && (await redisCounters(t.redis));
        const r = await loadRun(generator, t, c, SECONDS);
        if (!r) continue;
        if (t.redis) {
          const key = `${t.name}@${c}`;
          if (!redisUse.has(key)) redisUse.set(key, { commands: {}, reads: 0, calls: 0 });
          addDelta(redisUse.get(key), before, await redisCounters(t.redis), r.requests);
        }
        sent.set(t.name, sent.get(t.name) + r.requests);
        runs.set(`${t.name}@${c}`, [...(runs.get(`${t.name}@${c}`) ?? []), r]);
        progress(round + 1, c, t, r);
      }
    }
  }
  return { runs, redisUse, sent, warmupFailures };
}

function report(generator, targets, { runs, redisUse, sent, warmupFailures }) {
  const rows = CONCURRENCY.flatMap((c) =>
    targets
      .filter((t) => runs.has(`${t.name}@${c}`))
      .map((t) => ({ target: t.name, c, ...summarize(runs.get(`${t.name}@${c}`)) })),
  );
  console.log(
    `\n${ROUNDS} round(s) of ${SECONDS} s; req/s and CPU per request as median (min–max) over ` +
      'rounds; p50 and p99 from the rounds merged (samples: answers they stand on); RSS: the ' +
      `most after a run; load: ${generator.name}${generator.fallback ? ' (FALLBACK: wrk not found)' : ''}\n`,
  );
  console.log(table(rows));
  console.log('');
  for (const t of targets.filter((t) => t.name.startsWith('bff') && sent.get(t.name) > 0)) {
    const lines = countLines(t.proc.logFile);
    const perRequest = (lines / sent.get(t.name)).toFixed(3);
    console.log(`${t.name} log file: ${lines} lines, ${perRequest} per load request`);
  }
  for (const [key, use] of redisUse) {
    if (use.calls > 0) console.log(`${key.replace('@', ' c=')}: ${describeUse(use)}`);
  }
}

async function main() {
  const began = Date.now();
  const generator = pickLoadGenerator();
  console.log(
    `bench: ${ROUNDS} round(s) of ${SECONDS} s per target and concurrency after ${WARMUP_SECONDS} s ` +
      `of warm-up; load: ${generator.name ?? `none (${generator.missing} missing)`}` +
      `${generator.fallback ? ' (FALLBACK: wrk not found; req/s crowd together, CPU per request holds)' : ''}; ` +
      `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, load average ` +
      `${loadavg()[0].toFixed(1)} at start; node ${process.version}`,
  );
  let measured = { runs: new Map(), redisUse: new Map(), sent: new Map(), warmupFailures: 0 };
  let targets = [];
  if (generator.name) {
    targets = await startTargets();
    for (const t of targets) {
      const rss = rssMB(t.proc.child.pid).toFixed(1);
      console.log(`${t.name.padEnd(10)}  ${t.proc.name.padEnd(14)}  RSS at start ${rss} MB`);
    }
    await preflight(targets);
    measured = await measure(generator, targets);
    report(generator, targets, measured);
    if (otlpSink && measured.runs.has('bff-otlp@32')) {
      const { exports, bytes } = await otlpSink.stats();
      console.log(`bff-otlp: the sink received ${exports} exports, ${fixed(bytes / 1e6, 1)} MB`);
    }
  }
  const judgement = judge({ generator, failed, ...measured });
  if (judgement.info.length) console.log(`\n${judgement.info.join('\n')}`);
  console.log(`\n${verdictLines(judgement).join('\n')}`);
  console.log(`\nbench took ${((Date.now() - began) / 1000).toFixed(0)} s`);
  if (STRICT && failedStrict(judgement)) process.exitCode = 1;
}

try {
  await main();
} catch (err) {
  if (!interrupted) console.error(`bench failed: ${err.message}`);
  process.exitCode = 2;
} finally {
  await cleanUp();
}
