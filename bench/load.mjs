// One load run in a process of its own, so the bench's orchestrator stays idle: autocannon
// against one URL, given as JSON `{url, connections, seconds, headers}` in BENCH_LOAD. Prints one
// JSON line. Throughput and latencies count 2xx answers only, so a fast refusal cannot flatter
// a target; latencies are kept as measured (autocannon's own percentiles are whole
// milliseconds, too coarse for a budget in microseconds).
import autocannon from 'autocannon';

const { url, connections, seconds, headers } = JSON.parse(process.env.BENCH_LOAD);

const latencies = [];
let answers = 0;
const instance = autocannon({ url, connections, duration: seconds, headers });
instance.on('response', (_client, status, _bytes, ms) => {
  answers++;
  if (status >= 200 && status < 300) latencies.push(ms);
});
const result = await instance;

const sorted = Float64Array.from(latencies).sort();
const percentile = (p) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

process.stdout.write(
  `${JSON.stringify({
    requests: answers,
    rps: sorted.length / result.duration,
    p50Ms: percentile(50),
    p99Ms: percentile(99),
    non2xx: result.non2xx,
    errors: result.errors, // timeouts included
  })}\n`,
);
