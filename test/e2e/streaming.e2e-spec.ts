import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { withDeadline } from '../../src/http/deadline';
import { startFakeGather, type FakeGather } from '../fakes/fake-gather';
import { CHILD_START_MS, startChildApp, type ChildApp } from '../support/child-app';
import { signIn, writeUsersFile } from '../support/session';
import { openSpaGet } from '../support/spa';
import { startTestApp, type TestApp } from '../support/start-app';
import { until, untilStalled } from '../support/until';

/** A failure detector only: each wait below ends on an event, long before this on any machine. */
const EVENT_WITHIN_MS = 15_000;

const MiB = 1024 * 1024;

/** Whether the fake's answer to its latest request was closed before it was complete. */
function watchCut(res: ServerResponse): () => boolean {
  let cut = false;
  res.on('close', () => (cut = !res.writableFinished));
  return () => cut;
}

/** Resolvable from outside: the fake waits on what the test saw. */
function signal(): { wait: Promise<void>; give(): void } {
  let give = (): void => undefined;
  const wait = new Promise<void>((resolve) => (give = resolve));
  return { wait, give };
}

describe('streaming through the proxy', () => {
  let fake: FakeGather;
  let usersFile: string;
  let t: TestApp;
  let cookie: string;

  beforeAll(async () => {
    fake = await startFakeGather();
    usersFile = await writeUsersFile([
      { username: 'ada', password: 'correct horse battery', name: 'Ada', email: 'a@example.com' },
    ]);
    // Long enough that only the browser's disconnect can end Gather's request in these tests.
    t = await startTestApp({
      GATHER_BASE_URL: fake.baseUrl,
      AUTH_LOCAL_USERS_FILE: usersFile,
      GATHER_TIMEOUT_MS: '120000',
    });
    cookie = await signIn(t, 'ada', 'correct horse battery');
  });
  beforeEach(() => fake.reset());
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it('passes a text/event-stream event by event: the browser has each before Gather sends the next', async () => {
    const headSeen = signal();
    const firstSeen = signal();
    fake.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
      void headSeen.wait
        .then(() => {
          res.write('id: 1\ndata: one\n\n');
          return firstSeen.wait;
        })
        .then(() => res.end('id: 2\ndata: two\n\n'));
    };
    const { response } = openSpaGet(t.url, '/api/gather/events', cookie);
    // Gather holds its first event until the browser has the head: the stream opens at once.
    const res = await withDeadline(response, EVENT_WITHIN_MS);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-length']).toBeUndefined();
    headSeen.give();
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      text += chunk;
      // Gather holds the rest of its stream until the browser has the first event whole.
      if (text === 'id: 1\ndata: one\n\n') firstSeen.give();
    });
    await until(() => res.complete, EVENT_WITHIN_MS);
    expect(text).toBe('id: 1\ndata: one\n\nid: 2\ndata: two\n\n');
  });

  it("aborts Gather's request as soon as the browser leaves while Gather has not answered", async () => {
    let cut: (() => boolean) | undefined;
    fake.handle = (_req, res) => {
      cut = watchCut(res);
    };
    const { req, response } = openSpaGet(t.url, '/api/gather/slow', cookie);
    response.catch(() => undefined);
    await until(() => cut !== undefined, EVENT_WITHIN_MS);
    req.destroy();
    await until(() => cut?.() === true, EVENT_WITHIN_MS);
  });

  it("aborts Gather's request as soon as the browser leaves in the middle of a stream", async () => {
    let cut: (() => boolean) | undefined;
    fake.handle = (_req, res) => {
      cut = watchCut(res);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
    };
    const { req, response } = openSpaGet(t.url, '/api/gather/events', cookie);
    const res = await response;
    await new Promise((resolve) => res.once('data', resolve));
    req.destroy();
    await until(() => cut?.() === true, EVENT_WITHIN_MS);
  });

  it('holds Gather back while the browser does not read: backpressure, not buffering', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let written = 0;
    let waitingForDrain = false;
    fake.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const pump = (): void => {
        waitingForDrain = false;
        while (written < 64 * MiB) {
          written += chunk.length;
          if (!res.write(chunk)) {
            waitingForDrain = true;
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    };
    const { response } = openSpaGet(t.url, '/api/gather/download', cookie);
    const res = await response;
    res.pause();
    // Gather stops, blocked, with far less than the body sent: the socket buffers are full and
    // nothing is gathering it in memory.
    await untilStalled(
      () => waitingForDrain,
      () => written,
      4 * EVENT_WITHIN_MS,
    );
    expect(written).toBeLessThan(64 * MiB);
    let received = 0;
    res.on('data', (c: Buffer) => (received += c.length));
    res.resume();
    await until(() => res.complete, 4 * EVENT_WITHIN_MS);
    expect(received).toBe(64 * MiB);
  });
});

/** Restarts the peak resident memory the kernel keeps for a process (Linux 4.0 and later). */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** Peak (since the last reset) and current resident memory of a process, from /proc (Linux). */
function memoryOf(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
  return { peak: kib('VmHWM'), now: kib('VmRSS') };
}

const onLinux = process.platform === 'linux';

(onLinux ? describe : describe.skip)('memory of a 64 MiB download, in a process of its own', () => {
  let fake: FakeGather;
  let app: ChildApp;
  let cookie: string;

  beforeAll(async () => {
    fake = await startFakeGather();
    const usersFile = await writeUsersFile([
      { username: 'ada', password: 'correct horse battery', name: 'Ada', email: 'a@example.com' },
    ]);
    app = await startChildApp({ GATHER_BASE_URL: fake.baseUrl, AUTH_LOCAL_USERS_FILE: usersFile });
    cookie = await signIn(app, 'ada', 'correct horse battery');
  }, 2 * CHILD_START_MS);
  afterAll(async () => {
    await app.stop();
    await fake.close();
  });

  /** Gather answers `size` bytes (one reused chunk), as fast as the BFF takes them. */
  const serve = (size: number): void => {
    const chunk = Buffer.alloc(64 * 1024, 'y');
    fake.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
      let written = 0;
      const pump = (): void => {
        while (written < size) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    };
  };
  /** Downloads through the BFF, counting the bytes and keeping none. */
  const download = async (): Promise<{ received: number; res: IncomingMessage }> => {
    const res = await openSpaGet(app.url, '/api/gather/download', cookie).response;
    let received = 0;
    res.on('data', (c: Buffer) => (received += c.length));
    await until(() => res.complete, 8 * EVENT_WITHIN_MS);
    return { received, res };
  };

  it(
    'streams it in memory that does not grow with the body',
    async () => {
      const pid = app.process.pid as number;
      const mib = (bytes: number): string => (bytes / MiB).toFixed(1);
      // A small download first, so what the first proxied request costs is not counted.
      serve(4 * MiB);
      expect((await download()).received).toBe(4 * MiB);
      const baseline = memoryOf(pid).now;
      const peakOf = async (size: number): Promise<number> => {
        // Start-up's peak (it transpiled the sources) would hide the download's.
        resetPeak(pid);
        serve(size);
        const { received, res } = await download();
        expect(received).toBe(size);
        expect(res.headers['content-encoding']).toBeUndefined();
        const growth = memoryOf(pid).peak - baseline;
        console.log(
          `${mib(size)} MiB download through the BFF: peak RSS ${mib(growth)} MiB above ${mib(baseline)} MiB`,
        );
        return growth;
      };
      await peakOf(64 * MiB);
      // V8 frees the sockets' read buffers only when they add up to its external-memory limit
      // (64 MiB), so the first download shows that much; four times the body adds nothing to it.
      expect(await peakOf(256 * MiB)).toBeLessThan(128 * MiB);
    },
    16 * EVENT_WITHIN_MS,
  );
});
