// npm run bench: throughput of the BFF's hot path (session -> rate limit -> proxy) against a bare
// node:http keep-alive proxy measured in the same run, alternating rounds so that machine noise
// hits both alike. Reports requests/s, the ratio (target >= 0.8) and the targets' memory.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

const child = spawn(process.execPath, [new URL('./targets.mjs', import.meta.url).pathname], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const [line] = await new Promise((resolve, reject) => {
  createInterface({ input: child.stdout }).once('line', (l) => resolve([l]));
  child.once('exit', (code) => reject(new Error(`targets exited with ${code}`)));
});
const targets = JSON.parse(line);

const rssMiB = () =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024;

const load = (base, seconds) =>
  autocannon({
    url: `${base}/api/gather/questions?limit=10`,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { cookie: targets.cookie, 'x-csrf': '1', origin: 'http://localhost:3000' },
  });

const check = async (name, base) => {
  const r = await load(base, 1);
  const ok = r['2xx'];
  if (ok === 0 || r.non2xx > 0)
    throw new Error(`${name}: ${r.non2xx} non-2xx answers of ${r.requests.total}`);
};

try {
  await check('baseline', targets.baseline);
  await check('bff', targets.bff);
  const results = { baseline: [], bff: [] };
  for (let i = 0; i < ROUNDS; i++) {
    for (const name of i % 2 === 0 ? ['baseline', 'bff'] : ['bff', 'baseline']) {
      const r = await load(targets[name], SECONDS);
      results[name].push(r.requests.average);
      console.log(
        `round ${i + 1} ${name.padEnd(8)} ${r.requests.average.toFixed(0).padStart(7)} req/s  p99 ${r.latency.p99} ms  errors ${r.errors + r.non2xx}`,
      );
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(results.baseline);
  const bff = median(results.bff);
  console.log(`\nmedian baseline ${base.toFixed(0)} req/s, bff ${bff.toFixed(0)} req/s`);
  console.log(`ratio bff/baseline: ${(bff / base).toFixed(2)} (target >= 0.80)`);
  console.log(`targets process RSS after load: ${rssMiB().toFixed(0)} MiB`);
} finally {
  child.kill();
}
