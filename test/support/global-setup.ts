import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Set here, read by global-teardown.ts: the one folder that teardown may remove. */
export const RUN_TMPDIR = 'GATHER_BFF_TEST_TMPDIR';

/** Stops the run before any suite, with one line that says what to do. */
function refuse(line: string): never {
  const error = new Error(line);
  error.stack = line;
  throw error;
}

/** Whether `redis-server` can be started: the suites that need Redis spawn their own on free ports. */
function redisServerInstalled(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * What every suite needs, checked once: Node 24 (the ESM-only packages need `require` of ES
 * modules) and `redis-server`. Then a temp folder for the whole run, which teardown removes
 * with whatever a test or a child process left in it.
 */
export default async function globalSetup(): Promise<void> {
  if (Number(process.versions.node.split('.')[0]) < 24) {
    refuse(
      `The tests need Node.js 24, not ${process.version} (${process.execPath}): run them with \`npm test\`, which uses the Node 24 that \`npm ci\` installs.`,
    );
  }
  if (!redisServerInstalled()) {
    refuse(
      'The tests start their own Redis servers and need `redis-server` on the PATH (Debian: apt-get install redis-server).',
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'gather-bff-tests-'));
  process.env[RUN_TMPDIR] = dir;
  // os.tmpdir() reads these on every call, in this process and in every child it starts.
  for (const name of ['TMPDIR', 'TMP', 'TEMP']) process.env[name] = dir;
}
