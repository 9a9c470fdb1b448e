// The bench's results: medians across rounds per target and concurrency, the table, and the
// targets of issue #8 each judged PASS or MISS (SKIP when the run could not measure it). Each
// target is judged on its rounds paired with its baseline's: the median over rounds of the
// ratio (or difference) within each round, so a slow spell of the machine that hits one round
// moves both sides of that round's comparison, not one side of the whole.
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

/** A number with `digits` decimals; '-' for none (a run without a single 2xx answer). */
export const fixed = (x, digits) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

/** One target at one concurrency over its rounds: medians; failures and memory at their worst. */
export function summarize(runs) {
  return {
    rps: median(runs.map((r) => r.rps)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    non2xx: sum(runs.map((r) => r.non2xx)),
    errors: sum(runs.map((r) => r.errors)),
    rssMB: Math.max(...runs.map((r) => r.rssMB)),
  };
}

const COLUMNS = [
  ['target', 12, (s) => s.target],
  ['c', 3, (s) => String(s.c)],
  ['req/s', 8, (s) => fixed(s.rps, 0)],
  ['p50 ms', 8, (s) => fixed(s.p50Ms, 3)],
  ['p99 ms', 8, (s) => fixed(s.p99Ms, 3)],
  ['non-2xx', 8, (s) => String(s.non2xx)],
  ['errors', 7, (s) => String(s.errors)],
  ['RSS MB', 7, (s) => fixed(s.rssMB, 1)],
];

/** `rows`: summaries with their `target` and `c`. */
export function table(rows) {
  const line = (cells) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(COLUMNS[i][1]) : cell.padStart(COLUMNS[i][1])));
  return [
    line(COLUMNS.map(([title]) => title)).join('  '),
    ...rows.map((row) => line(COLUMNS.map(([, , cell]) => cell(row))).join('  ')),
  ].join('\n');
}

/** One target: `value` judged by `pass`, or SKIP when it could not be measured (undefined). */
const verdict = (what, target, value, pass, shown = (v) => v.toFixed(2)) => ({
  what,
  target,
  value: value === undefined ? 'not measured' : shown(value),
  pass: value === undefined ? null : pass(value),
});

/**
 * `compare(a, b)` for each round, `a` and `b` being `x` and `y`'s runs of that round; the
 * median of those. undefined when either did not run.
 */
export function paired(runsOf, [x, cx], [y, cy], compare) {
  const xs = runsOf(x, cx);
  const ys = runsOf(y, cy);
  if (!xs || !ys) return undefined;
  return median(xs.map((run, round) => compare(run, ys[round])));
}

/**
 * Issue #8's targets, from `runsOf(target, c)` (its runs in round order, undefined for a target
 * that did not run), `get(target, c)` (its summary) and the failures seen during warm-up, which
 * count against "zero non-2xx" too.
 */
export function verdicts(runsOf, get, warmupFailures) {
  const bffs = [
    get('bff-memory', 1),
    get('bff-memory', 32),
    get('bff-redis', 1),
    get('bff-redis', 32),
  ].filter(Boolean);
  const all = ['direct', 'bare', 'engine', 'bff-memory', 'bff-redis'].flatMap((t) => [
    get(t, 1),
    get(t, 32),
  ]);
  const failures = sum(all.filter(Boolean).map((s) => s.non2xx + s.errors)) + warmupFailures;
  const rps = (a, b) => a.rps / b.rps;
  return [
    verdict(
      'c=32 req/s, bff-memory / bare',
      '>= 0.75',
      paired(runsOf, ['bff-memory', 32], ['bare', 32], rps),
      (r) => r >= 0.75,
    ),
    verdict(
      'c=1 p50 added, bff-memory - direct',
      '<= 250 µs',
      paired(runsOf, ['bff-memory', 1], ['direct', 1], (a, b) => (a.p50Ms - b.p50Ms) * 1000),
      (us) => us <= 250,
      (us) => `${us.toFixed(0)} µs`,
    ),
    verdict(
      'c=1 p99, bff-memory / bare',
      '<= 2',
      paired(runsOf, ['bff-memory', 1], ['bare', 1], (a, b) => a.p99Ms / b.p99Ms),
      (r) => r <= 2,
    ),
    verdict(
      'c=32 req/s, bff-redis / bff-memory',
      '>= 0.75',
      paired(runsOf, ['bff-redis', 32], ['bff-memory', 32], rps),
      (r) => r >= 0.75,
    ),
    verdict(
      'BFF RSS after load, worst',
      '<= 200 MB',
      Math.max(...bffs.map((s) => s.rssMB)),
      (mb) => mb <= 200,
      (mb) => `${mb.toFixed(1)} MB`,
    ),
    verdict('non-2xx answers and errors under load', '0', failures, (n) => n === 0, String),
  ];
}

/**
 * Where the references stand: http-proxy-middleware with the baseline's header work and nothing
 * else against the bare proxy, and the BFF against it; at one connection, what the bare proxy
 * alone adds to calling Gather directly (the part of the 250 µs budget any Node proxy spends on
 * this machine) and what the BFF adds to the bare proxy. Information, not targets.
 */
export function referenceLines(runsOf) {
  const rps = (a, b) => a.rps / b.rps;
  const addedUs = (a, b) => (a.p50Ms - b.p50Ms) * 1000;
  const line = (what, value, why) => `INFO  ${what.padEnd(40)} ${value.padStart(10)}   ${why}`;
  const lines = [];
  const engine = paired(runsOf, ['engine', 32], ['bare', 32], rps);
  if (engine !== undefined) {
    const bff = paired(runsOf, ['bff-memory', 32], ['engine', 32], rps);
    lines.push(
      line('c=32 req/s, engine / bare', fixed(engine, 2), 'the engine alone'),
      line('c=32 req/s, bff-memory / engine', fixed(bff, 2), "what the BFF's own checks leave"),
    );
  }
  const bare = paired(runsOf, ['bare', 1], ['direct', 1], addedUs);
  if (bare !== undefined) {
    const bff = paired(runsOf, ['bff-memory', 1], ['bare', 1], addedUs);
    lines.push(
      line('c=1 p50 added, bare - direct', `${fixed(bare, 0)} µs`, 'what any Node proxy adds here'),
      line('c=1 p50 added, bff-memory - bare', `${fixed(bff, 0)} µs`, "the BFF's own share"),
    );
  }
  return lines;
}

export const mark = (pass) => (pass === null ? 'SKIP' : pass ? 'PASS' : 'MISS');

export function verdictLines(list) {
  return list.map(
    (v) => `${mark(v.pass)}  ${v.what.padEnd(40)} ${v.value.padStart(10)}   target ${v.target}`,
  );
}
