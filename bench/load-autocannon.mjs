// The fallback load generator, for machines without wrk: one autocannon run in a process of its
// own, against one URL given as JSON `{url, connections, seconds, headers}` in BENCH_LOAD.
// Prints the line wrk's script (load-wrk.lua) prints: answers, non-2xx, socket errors and the
// latency histogram in whole µs. autocannon is a Node process: at c=32 it takes a core of its
// own, so req/s crowd together; CPU per request still holds. The report names the fallback.
import autocannon from 'autocannon';

const { url, connections, seconds, headers } = JSON.parse(process.env.BENCH_LOAD);

const histogram = new Map();
let answers = 0;
let non2xx = 0;
const instance = autocannon({ url, connections, duration: seconds, headers });
instance.on('response', (_client, status, _bytes, ms) => {
  answers++;
  if (status < 200 || status > 299) non2xx++;
  const us = Math.round(ms * 1000);
  histogram.set(us, (histogram.get(us) ?? 0) + 1);
});
const result = await instance;

process.stdout.write(
  `BENCH_RESULT ${JSON.stringify({
    requests: answers,
    durationUs: Math.round(result.duration * 1e6),
    non2xx,
    errors: result.errors, // timeouts included
    histogram: [...histogram].sort((a, b) => a[0] - b[0]),
  })}\n`,
);
