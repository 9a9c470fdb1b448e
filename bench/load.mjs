// The load generator, run as a process of its own for each load run: Debian's wrk (C, one
// thread, a fraction of a core) with load-wrk.lua, or autocannon when wrk is missing, named as
// the fallback in the report. BENCH_LOAD=wrk or =autocannon picks one; a picked generator that
// is missing is not replaced by the other.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { logTail, start } from './processes.mjs';

const wrkInstalled = () => spawnSync('wrk', ['-v']).error === undefined;

const autocannonInstalled = () => {
  try {
    createRequire(import.meta.url).resolve('autocannon');
    return true;
  } catch {
    return false;
  }
};

/**
 * `{name, fallback, command}` of the generator this run uses, or `{name: null, missing}` naming
 * what was looked for.
 */
export function pickLoadGenerator(wanted = process.env.BENCH_LOAD) {
  if (wanted !== 'autocannon' && wrkInstalled())
    return { name: 'wrk', fallback: false, command: 'wrk' };
  if (wanted !== 'wrk' && autocannonInstalled()) {
    return { name: 'autocannon', fallback: wanted !== 'autocannon', command: process.execPath };
  }
  return { name: null, missing: wanted ? wanted : 'wrk and autocannon' };
}

/** wrk's -d and --timeout take whole seconds. */
const wholeSeconds = (s) => `${Math.max(1, Math.round(s))}s`;

/**
 * One load run against `target` ({url, headers}) at `connections`, for `seconds`, or until
 * `maxRequests` answers (wrk only). Resolves with load-wrk.lua's result; the latency histogram
 * is [µs, count] pairs.
 */
export async function runLoad(generator, target, { connections, seconds, maxRequests, logFile }) {
  // Headers in the environment rather than argv: the session cookie stays out of `ps`.
  const args =
    generator.name === 'wrk'
      ? [
          '-t1',
          `-c${connections}`,
          `-d${wholeSeconds(seconds)}`,
          '--timeout',
          '5s',
          '-s',
          join(import.meta.dirname, 'load-wrk.lua'),
          target.url,
        ]
      : [join(import.meta.dirname, 'load-autocannon.mjs')];
  const env =
    generator.name === 'wrk'
      ? {
          PATH: process.env.PATH,
          BENCH_HEADERS: Object.entries(target.headers)
            .map(([name, value]) => `${name}\t${value}`)
            .join('\n'),
          ...(maxRequests ? { BENCH_MAX_REQUESTS: String(maxRequests) } : {}),
        }
      : {
          BENCH_LOAD: JSON.stringify({
            url: target.url,
            connections,
            seconds,
            headers: target.headers,
          }),
        };
  const proc = start('load', generator.command, args, { env, logFile, pipe: true });
  let out = '';
  proc.child.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
  await new Promise((resolve) => proc.child.once('close', resolve));
  const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (proc.exited !== 'code 0' || !line) {
    throw new Error(`load generator ${generator.name}: ${proc.exited}\n${out}${logTail(proc)}`);
  }
  return JSON.parse(line.slice('BENCH_RESULT '.length));
}
