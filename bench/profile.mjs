// npm run bench:profile: where the µs go. Each target in turn, alone, under `node --cpu-prof`:
// a warm-up at c=32, then a fixed number of requests at c=32 from wrk, then SIGTERM (a normal
// exit, so the profile is written). The summary counts only the samples taken during the
// measured requests and gives self time per package and per function in µs per request, the
// targets side by side (bench/profile-summary.mjs). The profiles stay in the printed folder for
// DevTools or a later summary. docs/benchmarks.md, "Where the µs go".
//
// BENCH_PROFILE_TARGETS (bare,engine,diy,bff-memory; also bff-redis), BENCH_PROFILE_REQUESTS
// (100000), BENCH_WARMUP_SECONDS (5), BENCH_PROFILE_DIR (a new folder under the temp dir).
// Needs wrk (a fixed request count is its script's). Exits 2 when it cannot run.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SPA_HEADERS, signIn, startBff, writeUsers } from './bff.mjs';
import { QUESTIONS, startGather } from './gather-stand-in.mjs';
import { pickLoadGenerator, runLoad } from './load.mjs';
import { startPeer } from './peer/start.mjs';
import { describeProfile, sideBySide, summarizeProfile } from './profile-summary.mjs';
import { killAllNow, stopAll } from './processes.mjs';
import { startReference } from './references.mjs';
import { startRedis } from './redis.mjs';

const TARGETS = (process.env.BENCH_PROFILE_TARGETS ?? 'bare,engine,diy,bff-memory').split(',');
const REQUESTS = Number(process.env.BENCH_PROFILE_REQUESTS ?? 100_000);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const CONNECTIONS = 32;
const CALL = '/api/gather/questions?limit=10';
// A bound, not a goal: the run ends at REQUESTS answers.
const MAX_SECONDS = 600;

const out = process.env.BENCH_PROFILE_DIR ?? mkdtempSync(join(tmpdir(), 'gather-bench-profiles-'));
const dir = mkdtempSync(join(tmpdir(), 'gather-bench-'));
process.once('exit', () => {
  killAllNow();
  rmSync(dir, { recursive: true, force: true });
});

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/** Starts `name` with `nodeArgs`; resolves with `{proc, url, headers}` for the load. */
async function startTarget(name, nodeArgs, setup) {
  const spa = (cookie) => ({ ...SPA_HEADERS, cookie });
  switch (name) {
    case 'bare':
    case 'engine': {
      const r = await startReference(name, `${name}-proxy.mjs`, dir, setup, nodeArgs);
      const cookie = `connect.sid=${randomBytes(24).toString('base64url')}`;
      return { proc: r.proc, url: `${r.url}${CALL}`, headers: spa(cookie) };
    }
    case 'diy': {
      const p = await startPeer(name, dir, setup, nodeArgs);
      return { proc: p.proc, url: `${p.url}${CALL}`, headers: spa(p.cookie) };
    }
    case 'bff-memory':
    case 'bff-redis': {
      const redisUrl = name === 'bff-redis' ? (await startRedis(dir)).url : undefined;
      const b = await startBff(name, dir, { ...setup, redisUrl, nodeArgs });
      return {
        proc: b.proc,
        url: `${b.url}${CALL}`,
        headers: spa(await signIn(b.url, setup.users)),
      };
    }
    default:
      throw new Error(`no target ${name} (bare, engine, diy, bff-memory, bff-redis)`);
  }
}

async function stop(proc) {
  if (proc.exited !== null) throw new Error(`${proc.name} stopped early (${proc.exited})`);
  await new Promise((resolve) => {
    proc.child.once('exit', resolve);
    proc.child.kill('SIGTERM');
  });
}

async function profile(generator, name, setup) {
  const profileDir = join(out, name);
  mkdirSync(profileDir, { recursive: true });
  const nodeArgs = [
    '--import',
    pathToFileURL(join(import.meta.dirname, 'exit-on-sigterm.mjs')).href,
    '--cpu-prof',
    `--cpu-prof-dir=${profileDir}`,
  ];
  const target = await startTarget(name, nodeArgs, setup);
  const check = await fetch(target.url, { headers: target.headers });
  if (check.status !== 200 || (await check.text()) !== QUESTIONS) {
    throw new Error(`${name} answered ${check.status} before the load`);
  }
  const logFile = join(dir, 'load.log');
  await runLoad(generator, target, { connections: CONNECTIONS, seconds: WARMUP_SECONDS, logFile });
  const from = nowUs();
  const result = await runLoad(generator, target, {
    connections: CONNECTIONS,
    seconds: MAX_SECONDS,
    maxRequests: REQUESTS,
    logFile,
  });
  const to = nowUs();
  await stop(target.proc);
  if (result.non2xx + result.errors > 0) {
    throw new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  }
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`${name} wrote no profile in ${profileDir}`);
  const summary = summarizeProfile(JSON.parse(readFileSync(join(profileDir, file), 'utf8')), {
    from,
    to,
  });
  return { name, summary, requests: result.requests, file: join(profileDir, file) };
}

async function main() {
  const generator = pickLoadGenerator('wrk');
  if (!generator.name) throw new Error('wrk not found: the profile needs its fixed request count');
  const apiKey = `qapi_${randomBytes(24).toString('base64url')}`;
  const gather = await startGather(dir, apiKey);
  const users = await writeUsers(dir);
  const setup = { gatherBaseUrl: gather.baseUrl, apiKey, usersFile: users.file, users };
  const entries = [];
  for (const name of TARGETS) {
    console.log(
      `${name}: ${WARMUP_SECONDS} s of warm-up, then ${REQUESTS} requests at c=${CONNECTIONS}`,
    );
    entries.push(await profile(generator, name, setup));
  }
  const lines = [
    `CPU profiles (main thread, self time) of ${REQUESTS} requests at c=${CONNECTIONS} per target; ` +
      `node ${process.version}`,
    '',
    ...sideBySide(entries),
    '',
    ...entries.flatMap((e) => [
      ...describeProfile(e.name, e.summary, e.requests),
      `  profile: ${e.file}`,
      '',
    ]),
  ];
  console.log(`\n${lines.join('\n')}`);
  writeFileSync(join(out, 'summary.txt'), `${lines.join('\n')}\n`);
  console.log(`profiles and summary.txt in ${out}`);
}

try {
  await main();
} catch (err) {
  console.error(`bench profile failed: ${err.message}`);
  process.exitCode = 2;
} finally {
  await stopAll();
}
