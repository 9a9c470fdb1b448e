// The benchmark's child processes: every target, and every load run, is a process of its own.
// Whatever way the bench ends (done, failure, Ctrl-C), `stopAll` or `killAllNow` stops them.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const running = new Set();

/**
 * Starts `command` with its stdout and stderr appended to `logFile` (or, with `pipe`, stdout
 * readable by the caller). `exited` is set once it stops, expectedly or not.
 */
export function start(name, command, args, { env, cwd, logFile, pipe = false }) {
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', pipe ? 'pipe' : fd, fd] });
  closeSync(fd);
  const proc = { name, child, logFile, exited: null };
  running.add(child);
  child.once('error', (err) => {
    proc.exited = err.message;
    running.delete(child);
  });
  child.once('exit', (code, signal) => {
    proc.exited = signal ?? `code ${code}`;
    running.delete(child);
  });
  return proc;
}

/** The last lines of a process's log, for an error message. */
export function logTail(proc, lines = 20) {
  try {
    const log = readFileSync(proc.logFile, 'utf8').trimEnd();
    return log ? log.split('\n').slice(-lines).join('\n') : '(empty)';
  } catch {
    return '(no log)';
  }
}

export function assertRunning(proc) {
  if (proc.exited !== null) {
    throw new Error(`${proc.name} stopped (${proc.exited}); its log ends:\n${logTail(proc)}`);
  }
}

/** Polls `probe` until it returns true, failing as soon as the process dies or time runs out. */
export async function waitUntil(proc, what, probe, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    assertRunning(proc);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`${proc.name}: not ${what} after ${timeoutMs / 1000} s:\n${logTail(proc)}`);
    }
    await sleep(100);
  }
}

/** SIGTERM to every child still running, SIGKILL to any still there after `graceMs`. */
export async function stopAll(graceMs = 5_000) {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise((resolve) => {
          const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

/** For `process.on('exit')`, which cannot wait: the last resort if `stopAll` never ran. */
export function killAllNow() {
  for (const child of running) child.kill('SIGKILL');
}

/** A process and its descendants (nginx's workers, for one), as pids. */
function tree(pid) {
  const children = (p) => {
    try {
      return readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').split(' ').filter(Boolean);
    } catch {
      return [];
    }
  };
  const pids = [String(pid)];
  for (let i = 0; i < pids.length; i++) pids.push(...children(pids[i]));
  return pids;
}

/** Resident memory in MB of a process and its descendants. */
export function rssMB(pid) {
  const kib = (p) => {
    try {
      return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))[1]);
    } catch {
      return 0; // gone meanwhile
    }
  };
  return (tree(pid).reduce((sum, p) => sum + kib(p), 0) * 1024) / 1e6;
}

const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/**
 * CPU time in µs a process and its descendants have used so far: utime + stime of each (all
 * threads, V8's compiler and GC threads included) and cutime + cstime of the children each has
 * reaped. Taken before and after a run, the difference over the requests served is the CPU per
 * request.
 */
export function cpuUs(pid) {
  const ticks = (p) => {
    try {
      // Fields after the parenthesised command name, which may hold spaces: utime is the 12th.
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0);
    } catch {
      return 0; // gone meanwhile
    }
  };
  return (tree(pid).reduce((sum, p) => sum + ticks(p), 0) * 1e6) / clockTicks;
}
