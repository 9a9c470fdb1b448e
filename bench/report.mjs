// The bench's results: every target's rounds summarised (medians and spread, p50 and p99 from
// the rounds' merged latency histograms), the table, and the verdicts. A verdict is PASS or MISS
// only when it was measured: SKIP when it could not be (a target not run), MISS when a target it
// needs stopped or failed; VOID instead of PASS when the sanity line says the machine was not
// quiet enough to trust the run. CPU verdicts pair each round's runs: the ratio (or difference)
// is taken within each round and the median of those is judged, so a slow spell of the machine
// moves both sides of one round's comparison, not one side of the whole. docs/benchmarks.md,
// Method.
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

/** A number with `digits` decimals; '-' for none (a run without a single answer). */
export const fixed = (x, digits) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

/** min, median and max of some rounds' values. */
export const spread = (xs) => ({ min: Math.min(...xs), median: median(xs), max: Math.max(...xs) });

/** Histograms of [µs, count] pairs added into one, sorted by µs. */
export function mergeHistograms(histograms) {
  const counts = new Map();
  for (const h of histograms) for (const [us, n] of h) counts.set(us, (counts.get(us) ?? 0) + n);
  return [...counts].sort((a, b) => a[0] - b[0]);
}

/** The `p`th percentile in µs of a histogram (the least value with p% at or below it). */
export function percentileUs(histogram, p) {
  const total = sum(histogram.map(([, n]) => n));
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const [us, n] of histogram) {
    seen += n;
    if (seen >= rank) return us;
  }
  return NaN;
}

/**
 * One run's numbers from the load generator's result, the target's CPU time (µs) over the run
 * and its RSS after it.
 */
export function runResult({ requests, durationUs, non2xx, errors, histogram }, cpuUsed, rssMB) {
  return {
    requests,
    rps: (requests - non2xx) / (durationUs / 1e6),
    p50Ms: percentileUs(histogram, 50) / 1000,
    p99Ms: percentileUs(histogram, 99) / 1000,
    cpuUs: cpuUsed / requests,
    non2xx,
    errors,
    rssMB,
    histogram,
  };
}

/**
 * One target at one concurrency over its rounds: req/s and CPU per request as their spread,
 * p50 and p99 from the merged histograms (`samples`: the answers they stand on; wrk's histogram
 * holds more entries, see docs/benchmarks.md on coordinated omission), failures summed, memory
 * at its worst.
 */
export function summarize(runs) {
  const merged = mergeHistograms(runs.map((r) => r.histogram));
  return {
    rounds: runs.length,
    rps: spread(runs.map((r) => r.rps)),
    cpuUs: spread(runs.map((r) => r.cpuUs)),
    p50Ms: percentileUs(merged, 50) / 1000,
    p99Ms: percentileUs(merged, 99) / 1000,
    samples: sum(runs.map((r) => r.requests)),
    non2xx: sum(runs.map((r) => r.non2xx)),
    errors: sum(runs.map((r) => r.errors)),
    rssMB: Math.max(...runs.map((r) => r.rssMB)),
  };
}

const ranged = ({ min, median, max }, digits) =>
  `${fixed(median, digits)} (${fixed(min, digits)}–${fixed(max, digits)})`;

const COLUMNS = [
  ['target', 12, (s) => s.target],
  ['c', 3, (s) => String(s.c)],
  ['req/s med (min–max)', 24, (s) => ranged(s.rps, 0)],
  ['CPU µs/req med (min–max)', 24, (s) => ranged(s.cpuUs, 1)],
  ['p50 ms', 7, (s) => fixed(s.p50Ms, 3)],
  ['p99 ms', 7, (s) => fixed(s.p99Ms, 3)],
  ['samples', 9, (s) => String(s.samples)],
  ['non-2xx', 8, (s) => String(s.non2xx)],
  ['errors', 7, (s) => String(s.errors)],
  ['RSS MB', 7, (s) => fixed(s.rssMB, 1)],
];

/** `rows`: summaries with their `target` and `c`. */
export function table(rows) {
  // The target column as wide as its longest name (the earlier builds' are long).
  const first = Math.max(COLUMNS[0][1], ...rows.map((row) => row.target.length));
  const line = (cells) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(first) : cell.padStart(COLUMNS[i][1])));
  return [
    line(COLUMNS.map(([title]) => title)).join('  '),
    ...rows.map((row) => line(COLUMNS.map(([, , cell]) => cell(row))).join('  ')),
  ].join('\n');
}

/**
 * `compare(a, b)` for each round, `a` and `b` being `x` and `y`'s runs of that round; the
 * median of those. undefined when either has no runs.
 */
function paired(runs, [x, cx], [y, cy], compare) {
  const xs = runs.get(`${x}@${cx}`);
  const ys = runs.get(`${y}@${cy}`);
  if (!xs?.length || !ys?.length) return undefined;
  const rounds = Math.min(xs.length, ys.length);
  return median(xs.slice(0, rounds).map((run, round) => compare(run, ys[round])));
}

const cpuRatio = (a, b) => a.cpuUs / b.cpuUs;
const cpuAdded = (a, b) => a.cpuUs - b.cpuUs;
const rpsRatio = (a, b) => a.rps / b.rps;
const p50AddedUs = (a, b) => (a.p50Ms - b.p50Ms) * 1000;
const times = (x) => fixed(x, 2);
const micros = (us) => `${fixed(us, 1)} µs`;

/**
 * The bench's verdicts from
 * - `generator`: pickLoadGenerator()'s answer (`name` null when none was found),
 * - `runs`: every measured run by `target@c`, in round order,
 * - `failed`: target → why it stopped counting (exited, refused before the load),
 * - `warmupFailures`: non-2xx answers and errors during warm-up.
 * Returns `{trusted, sanity, verdicts, info}`; each verdict `{what, target, value, pass}` with
 * `pass` null when not measured.
 */
export function judge({ generator, runs, failed, warmupFailures }) {
  const summary = (name, c) => {
    const rs = runs.get(`${name}@${c}`);
    return rs?.length ? summarize(rs) : undefined;
  };
  const verdict = (what, target, needs, value, pass, shown = times) => {
    const broken = needs.filter((name) => failed.has(name));
    if (broken.length > 0) {
      const value = broken.map((name) => `${name} ${failed.get(name)}`).join('; ');
      return { what, target, value, pass: false };
    }
    if (value === undefined || Number.isNaN(value)) {
      return { what, target, value: 'not measured', pass: null };
    }
    return { what, target, value: shown(value), pass: pass(value) };
  };

  const engineOverBare = paired(runs, ['engine', 32], ['bare', 32], cpuAdded);
  const sanity = verdict(
    'sanity: c=32 CPU/req, engine - bare',
    '> 0 µs',
    ['engine', 'bare'],
    engineOverBare,
    (us) => us > 0,
    micros,
  );

  const p99 = (name) => summary(name, 1);
  const bffP99 = p99('bff-memory');
  const bareP99 = p99('bare');
  const p99Ratio = bffP99 && bareP99 ? bffP99.p99Ms / bareP99.p99Ms : undefined;
  const bffs = ['bff-memory', 'bff-redis'].flatMap((t) => [summary(t, 1), summary(t, 32)]);
  const measuredBffs = bffs.filter(Boolean);
  const failures = sum([...runs.values()].flat().map((r) => r.non2xx + r.errors)) + warmupFailures;

  const verdicts = [
    {
      what: 'load generator',
      target: 'wrk',
      value: generator.name
        ? `${generator.name}${generator.fallback ? ' (fallback: wrk not found)' : ''}`
        : `none (${generator.missing} missing)`,
      pass: generator.name !== null,
    },
    {
      what: 'targets answered to the end',
      target: 'all',
      value: failed.size
        ? [...failed].map(([name, why]) => `${name} ${why}`).join('; ')
        : runs.size
          ? 'all'
          : 'not measured',
      pass: failed.size ? false : runs.size ? true : null,
    },
    verdict(
      'non-2xx answers and errors under load',
      '0',
      [],
      runs.size ? failures : undefined,
      (n) => n === 0,
      String,
    ),
    verdict(
      'c=32 CPU/req, bare / bff-memory',
      '>= 0.85 (stretch 0.90)',
      ['bare', 'bff-memory'],
      paired(runs, ['bare', 32], ['bff-memory', 32], cpuRatio),
      (r) => r >= 0.85,
    ),
    verdict(
      'c=32 CPU/req, bff-memory - engine',
      '<= 10 µs',
      ['bff-memory', 'engine'],
      paired(runs, ['bff-memory', 32], ['engine', 32], cpuAdded),
      (us) => us <= 10,
      micros,
    ),
    verdict(
      'c=32 CPU/req, bff-memory / bff-redis',
      '>= 0.80',
      ['bff-memory', 'bff-redis'],
      paired(runs, ['bff-memory', 32], ['bff-redis', 32], cpuRatio),
      (r) => r >= 0.8,
    ),
    verdict(
      'c=1 p99 (merged rounds), bff-memory / bare',
      '<= 2',
      ['bff-memory', 'bare'],
      p99Ratio,
      (r) => r <= 2,
      (r) => `${times(r)} (${bffP99.samples}/${bareP99.samples} samples)`,
    ),
    verdict(
      'BFF RSS after load, worst',
      '<= 200 MB',
      ['bff-memory', 'bff-redis'],
      measuredBffs.length ? Math.max(...measuredBffs.map((s) => s.rssMB)) : undefined,
      (mb) => mb <= 200,
      (mb) => `${fixed(mb, 1)} MB`,
    ),
  ];
  return { trusted: sanity.pass === true, sanity, verdicts, info: infoLines(runs, summary) };
}

/**
 * Where the references and the peer stand: information, not targets. The peer (diy) is the
 * stack a team would write with the same packages; the BFF's lead over it is its CPU per request
 * over the BFF's, and the BFF's req/s over its.
 */
function infoLines(runs, summary) {
  const line = (what, value, why) => `INFO  ${what.padEnd(44)} ${value.padStart(28)}   ${why}`;
  const lines = [];
  const add = (what, value, shown, why) => {
    if (value !== undefined && !Number.isNaN(value)) lines.push(line(what, shown(value), why));
  };
  add(
    'c=32 CPU/req, diy / bff-memory',
    paired(runs, ['diy', 32], ['bff-memory', 32], cpuRatio),
    times,
    "the peer's cost per request over the BFF's",
  );
  add(
    'c=32 req/s, bff-memory / diy',
    paired(runs, ['bff-memory', 32], ['diy', 32], rpsRatio),
    times,
    "the BFF's throughput over the peer's",
  );
  const diy = summary('diy', 1);
  const bff = summary('bff-memory', 1);
  if (diy && bff) {
    lines.push(
      line(
        'c=1 p99 (merged rounds), diy / bff-memory',
        `${fixed(diy.p99Ms, 3)} / ${fixed(bff.p99Ms, 3)} ms`,
        `${diy.samples}/${bff.samples} samples`,
      ),
    );
  }
  add(
    'c=32 CPU/req, bff-otlp / bff-memory',
    paired(runs, ['bff-otlp', 32], ['bff-memory', 32], cpuRatio),
    times,
    'what exporting a span pair per request costs',
  );
  const befores = new Set(
    [...runs.keys()].map((key) => key.split('@')[0]).filter((name) => name.startsWith('before-')),
  );
  for (const before of befores) {
    const store = before.endsWith('-redis') ? 'redis' : 'memory';
    add(
      `c=32 CPU/req, bff-${store} / ${before}`,
      paired(runs, [`bff-${store}`, 32], [before, 32], cpuRatio),
      times,
      'this build over an earlier one (< 1: cheaper now)',
    );
  }
  add(
    'c=32 CPU/req, bff-memory / engine',
    paired(runs, ['bff-memory', 32], ['engine', 32], cpuRatio),
    times,
    'the BFF beside the forwarding engine alone',
  );
  add(
    'c=32 req/s, bff-memory / bare',
    paired(runs, ['bff-memory', 32], ['bare', 32], rpsRatio),
    times,
    'who got the cores: contention, not cost',
  );
  // Not a target of issue #25: issue #8's budget was absolute, and on these VMs waking a process
  // alone costs ~200 µs of it (docs/benchmarks.md, "Verdicts").
  add(
    'c=1 p50 added, bff-memory - direct',
    paired(runs, ['bff-memory', 1], ['direct', 1], p50AddedUs),
    (us) => `${fixed(us, 0)} µs`,
    "latency the BFF adds at one connection (was issue #8's 250 µs budget)",
  );
  add(
    'c=1 p50 added, bare - direct',
    paired(runs, ['bare', 1], ['direct', 1], p50AddedUs),
    (us) => `${fixed(us, 0)} µs`,
    'what any Node proxy adds on this machine',
  );
  add(
    'c=1 p50 added, bff-memory - bare',
    paired(runs, ['bff-memory', 1], ['bare', 1], p50AddedUs),
    (us) => `${fixed(us, 0)} µs`,
    "the BFF's own share",
  );
  const redis = runs.get('bff-redis@32')?.filter((r) => r.redisCpuUs !== undefined);
  if (redis?.length) {
    add(
      'c=32 redis-server CPU per call',
      median(redis.map((r) => r.redisCpuUs)),
      micros,
      "Redis's own work, not in bff-redis's CPU/req",
    );
  }
  return lines;
}

export function mark(pass, trusted) {
  if (pass === null) return 'SKIP';
  if (!pass) return 'MISS';
  return trusted ? 'PASS' : 'VOID';
}

/** The sanity line, then a verdict per line; a run not to be trusted says so first. */
export function verdictLines({ trusted, sanity, verdicts }) {
  const line = (label, v) =>
    `${label.padEnd(4)}  ${v.what.padEnd(44)} ${v.value.padStart(28)}   target ${v.target}`;
  return [
    trusted
      ? line('OK', sanity)
      : `${line('BAD', sanity)}\nUNTRUSTWORTHY RUN: ${
          sanity.pass === null
            ? 'the sanity line could not be measured'
            : 'the engine reference must cost more CPU per request than the bare proxy'
        }; verdicts that would pass show VOID`,
    ...verdicts.map((v) => line(mark(v.pass, trusted), v)),
  ];
}

/** Whether BENCH_STRICT=1 fails the run: any MISS, or a run not to be trusted. */
export const failedStrict = ({ trusted, verdicts }) =>
  !trusted || verdicts.some((v) => v.pass === false);
