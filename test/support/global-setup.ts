import { mkdtemp } from 'node:fs/promises';
import { connect } from 'node:net';
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

/** Whether something on 127.0.0.1:6379 answers PING with PONG within two seconds. */
function redisAnswers(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(6379, '127.0.0.1');
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (reply: Buffer) => done(reply.toString('latin1').startsWith('+PONG')));
  });
}

/**
 * What every suite needs, checked once: Node 24 (the ESM-only packages need `require` of ES
 * modules) and the shared Redis. Then a temp folder for the whole run, which teardown removes
 * with whatever a test or a child process left in it.
 */
export default async function globalSetup(): Promise<void> {
  if (Number(process.versions.node.split('.')[0]) < 24) {
    refuse(
      `The tests need Node.js 24, not ${process.version} (${process.execPath}): run them with \`npm test\`, which uses the Node 24 that \`npm ci\` installs.`,
    );
  }
  if (!(await redisAnswers())) {
    refuse(
      'Redis must answer on 127.0.0.1:6379: start it with `redis-server --port 6379 --save "" --appendonly no --daemonize yes` (Debian: apt-get install redis-server).',
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'gather-bff-tests-'));
  process.env[RUN_TMPDIR] = dir;
  // os.tmpdir() reads these on every call, in this process and in every child it starts.
  for (const name of ['TMPDIR', 'TMP', 'TEMP']) process.env[name] = dir;
}
