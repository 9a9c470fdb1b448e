import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Env } from '../../src/config/load-config';
import { freePort } from '../../src/http/free-port';
import { testEnv } from './start-app';
import { until } from './spa';

const ROOT = join(__dirname, '..', '..');

/** Longest wait for a child's first `/healthz` answer: it transpiles the sources as it starts. */
export const CHILD_START_MS = 60_000;

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** The service as `npm start` runs it (`src/main.ts`), in a process of its own. */
export interface ChildApp {
  readonly process: ChildProcess;
  /** `http://127.0.0.1:<port>` of the public listener. */
  readonly url: string;
  /** Settles when the process has ended. */
  readonly exited: Promise<ChildExit>;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Ends the process if it still runs (SIGKILL) and waits for it. */
  stop(): Promise<ChildExit>;
}

/**
 * Starts `src/main.ts` in a child process with the tests' environment plus `overrides`, and
 * resolves once its `/healthz` answers.
 */
export async function startChildApp(overrides: Env = {}): Promise<ChildApp> {
  const port = await freePort();
  const env = { PATH: process.env.PATH, TMPDIR: process.env.TMPDIR };
  const child = spawn(
    process.execPath,
    [join(ROOT, 'test', 'support', 'ts-run.js'), join(ROOT, 'src', 'main.ts')],
    { cwd: ROOT, env: { ...env, ...testEnv({ PORT: String(port), ...overrides }) } },
  );
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stderr.on('data', (c: Buffer) => chunks.push(c));
  const exited = new Promise<ChildExit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let ended: ChildExit | undefined;
  void exited.then((e) => (ended = e));
  const app: ChildApp = {
    process: child,
    url: `http://127.0.0.1:${port}`,
    exited,
    output: () => Buffer.concat(chunks).toString('utf8'),
    stop: () => {
      if (!ended) child.kill('SIGKILL');
      return exited;
    },
  };
  try {
    await until(async () => {
      if (ended) throw new Error(`the service exited (${JSON.stringify(ended)}):\n${app.output()}`);
      return fetch(`${app.url}/healthz`).then(
        (res) => res.ok,
        () => false,
      );
    }, CHILD_START_MS);
  } catch (err) {
    await app.stop();
    throw err;
  }
  return app;
}
