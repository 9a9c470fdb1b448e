// Where the µs go: self time per function and per package from V8 .cpuprofile files (node
// --cpu-prof), optionally only the samples inside a time window (the load run's, so start-up and
// warm-up stay out) and divided by the requests served in it. The profile is the main thread's:
// GC helper threads, V8's compiler threads and libuv's pool are not in it (the bench's CPU per
// request counts them). docs/benchmarks.md, "Where the µs go".
//
//   node bench/profile-summary.mjs <file.cpuprofile>... [--from µs] [--to µs] [--requests n] [--top n]
//
// --from/--to are CLOCK_MONOTONIC µs (process.hrtime.bigint() / 1000n), the clock of the
// profile's own timestamps.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT_URL = `${pathToFileURL(join(import.meta.dirname, '..')).href}/`;

const NODE_GROUPS = [
  [/^(_http_|http$|https$|internal\/http)/, 'node: http'],
  [/^(net$|stream$|internal\/(streams|stream_base_commons|net))/, 'node: net/stream'],
  [/crypto/, 'node: crypto'],
  [/timers/, 'node: timers'],
  [/^(events$|internal\/(async_hooks|process\/task_queues|event_target))/, 'node: events/async'],
];

/**
 * The package a function belongs to: a node_modules package by name, our own code by its
 * folder (src/http, src/proxy, …), Node's internals by area, V8's pseudo-frames by what they are.
 */
export function packageOf({ functionName, url }) {
  if (!url) {
    if (functionName === '(garbage collector)') return 'V8: GC (main thread)';
    if (functionName === '(program)') return 'V8: (program), unattributed native';
    if (functionName === '(idle)' || functionName === '(root)') return functionName;
    return 'native builtins and bindings';
  }
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const [scope, name] = url.slice(modules + '/node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  if (url.startsWith('node:')) {
    const module = url.slice('node:'.length);
    return NODE_GROUPS.find(([pattern]) => pattern.test(module))?.[1] ?? 'node: other';
  }
  // Paths inside this repository (where the profile was taken: a copy elsewhere still works).
  const path = url.startsWith(ROOT_URL) ? url.slice(ROOT_URL.length) : url;
  const ours = /^dist\/(?:([^/]+)\/)?/.exec(path);
  if (ours) return ours[1] ? `ours: src/${ours[1]}` : 'ours: src';
  if (path.startsWith('bench/peer/')) return 'peer: bench/peer';
  if (path.startsWith('bench/')) return `bench: ${basename(path)}`;
  return 'other';
}

/**
 * Self time in µs per function and per package of the samples in [from, to] (all when not
 * given); idle time left out. A sample's time is the gap to the next one, as DevTools counts it.
 */
export function summarizeProfile(profile, { from = -Infinity, to = Infinity } = {}) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map();
  const byPackage = new Map();
  let totalUs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i];
    const us = profile.timeDeltas[i + 1] ?? 0;
    if (at < from || at > to) continue;
    const { callFrame } = nodes.get(profile.samples[i]);
    const pkg = packageOf(callFrame);
    if (pkg === '(idle)') continue;
    const where = callFrame.url ? ` ${basename(callFrame.url)}:${callFrame.lineNumber + 1}` : '';
    const fn = `${callFrame.functionName || '(anonymous)'}${where} [${pkg}]`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    totalUs += us;
  }
  return { totalUs, byFunction, byPackage };
}

const sorted = (map) => [...map].sort((a, b) => b[1] - a[1]);

/** Lines for one profile: per package, then the top functions, in µs per request and share. */
export function describeProfile(name, { totalUs, byFunction, byPackage }, requests, top = 25) {
  const per = (us) =>
    requests
      ? `${(us / requests).toFixed(2).padStart(8)} µs/req`
      : `${(us / 1000).toFixed(1).padStart(9)} ms`;
  const share = (us) => `${((100 * us) / totalUs).toFixed(1).padStart(5)}%`;
  return [
    `${name}: ${per(totalUs).trim()} on the main thread${requests ? ` over ${requests} requests` : ''}`,
    '  per package',
    ...sorted(byPackage).map(([pkg, us]) => `    ${per(us)}  ${share(us)}  ${pkg}`),
    `  top ${top} functions (self time)`,
    ...sorted(byFunction)
      .slice(0, top)
      .map(([fn, us]) => `    ${per(us)}  ${share(us)}  ${fn}`),
  ];
}

/** Packages as rows, one column per profile, in µs per request: profiles side by side. */
export function sideBySide(entries) {
  const packages = new Set(entries.flatMap(({ summary }) => [...summary.byPackage.keys()]));
  const rows = [...packages].map((pkg) => [
    pkg,
    ...entries.map(({ summary, requests }) => (summary.byPackage.get(pkg) ?? 0) / requests),
  ]);
  rows.sort((a, b) => Math.max(...b.slice(1)) - Math.max(...a.slice(1)));
  const total = [
    'total (main thread)',
    ...entries.map(({ summary, requests }) => summary.totalUs / requests),
  ];
  const cell = (x) => x.toFixed(2).padStart(12);
  return [
    `${'µs per request'.padEnd(40)}${entries.map(({ name }) => name.padStart(12)).join('')}`,
    ...[total, ...rows].map(([pkg, ...xs]) => `${pkg.padEnd(40)}${xs.map(cell).join('')}`),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      requests: { type: 'string' },
      top: { type: 'string', default: '25' },
    },
  });
  if (positionals.length === 0) {
    console.error(
      'usage: node bench/profile-summary.mjs <file.cpuprofile>... [--from µs] [--to µs] [--requests n] [--top n]',
    );
    process.exit(2);
  }
  const window = { from: Number(values.from ?? -Infinity), to: Number(values.to ?? Infinity) };
  for (const file of positionals) {
    const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')), window);
    console.log(
      describeProfile(
        basename(file),
        summary,
        Number(values.requests ?? 0),
        Number(values.top),
      ).join('\n'),
    );
  }
}
