import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CHILD_START_MS, type ChildExit } from '../support/child-app';
import { freePort } from '../../src/http/free-port';
import { testEnv } from '../support/start-app';
import { until } from '../support/spa';
import { tempDir } from '../support/temp-dir';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'node_modules', '.bin');

/** Compiling the service and starting it through npm both take a while on a busy machine. */
jest.setTimeout(4 * CHILD_START_MS);

/** Whether a process with this id still exists (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `/readyz`'s status, or `refused` when nothing listens. */
async function readyz(url: string): Promise<number | 'refused'> {
  return fetch(`${url}/readyz`).then(
    (res) => res.status,
    () => 'refused' as const,
  );
}

/*
 * A supervisor (a terminal's job control, systemd with KillMode=process, a process manager)
 * runs `npm start` and signals npm's process alone: the service must drain and stop as it does
 * when signalled itself (docs/contract.md, "Shutdown").
 */
describe('`npm start` under a supervisor', () => {
  let dir: string;

  beforeAll(async () => {
    // The repository's own package.json and dependencies, with a dist/ built for this test only.
    dir = await tempDir('npm-start-');
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    symlinkSync(join(ROOT, 'config'), join(dir, 'config'));
    const build = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        join(ROOT, 'tsconfig.build.json'),
        '--outDir',
        join(dir, 'dist'),
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(build.stdout + build.stderr).toBe('');
  });

  it('drains and exits, with no process left, when SIGTERM reaches the npm process', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const npm = spawn('npm', ['start'], {
      cwd: dir,
      // A process group of its own, as a supervisor starts it; only npm's pid is signalled.
      detached: true,
      env: {
        PATH: `${BIN}:${process.env.PATH ?? ''}`,
        TMPDIR: process.env.TMPDIR,
        ...testEnv({ PORT: String(port) }),
      },
    });
    const chunks: Buffer[] = [];
    npm.stdout.on('data', (c: Buffer) => chunks.push(c));
    npm.stderr.on('data', (c: Buffer) => chunks.push(c));
    const output = (): string => Buffer.concat(chunks).toString('utf8');
    const exited = new Promise<ChildExit>((resolve) =>
      npm.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const npmPid = npm.pid ?? 0;
    try {
      await until(async () => (await readyz(url)) === 200, CHILD_START_MS);
      // The service's own pid, from its log lines: npm's child, or a shell's.
      const servicePid = Number(/"pid":(\d+)/.exec(output())?.[1]);
      expect(servicePid).toBeGreaterThan(0);
      expect(servicePid).not.toBe(npmPid);

      process.kill(npmPid, 'SIGTERM');

      await until(async () => (await readyz(url)) !== 200, 10_000);
      await until(() => output().includes('"msg":"drained"'), 10_000);
      expect(await exited).toEqual({ code: 0, signal: null });
      await until(() => !alive(servicePid), 10_000);
      expect(await readyz(url)).toBe('refused');
    } finally {
      // Whatever is left of the group goes, so a failed run does not keep the port.
      try {
        process.kill(-npmPid, 'SIGKILL');
      } catch {
        // The group is gone: nothing was left.
      }
    }
  });
});
