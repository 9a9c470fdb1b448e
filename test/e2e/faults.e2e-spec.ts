import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createConnection, type Socket } from 'node:net';
import { FakeVault } from '../fakes/fake-vault';
import { startFakeGather, startRawServer, type FakeGather } from '../fakes/fake-gather';
import { freePort } from '../../src/http/free-port';
import { openRaw, parseRawAnswer } from '../support/http';
import { spawnRedis, type SpawnedRedis } from '../support/redis';
import { signIn, writeUsersFile } from '../support/session';
import { startTestApp, TEST_KEY, TEST_ORIGIN, type TestApp } from '../support/start-app';
import { openSpaGet, SPA_HEADERS } from '../support/spa';
import { tempDir } from '../support/temp-dir';
import { until, untilStalled } from '../support/until';

/** Short, so hangs end quickly; the assertions scale with it rather than with the clock. */
const GATHER_TIMEOUT_MS = 1500;
const USER = { username: 'ada', password: 'correct horse battery' };
/** The BFF's log line for a browser that took nothing of a streamed answer for too long. */
const STALLED = 'The browser took nothing of the answer for too long';

/** What the browser got: the status, whether the answer arrived whole, and when it ended. */
interface Outcome {
  status: number;
  text: string;
  complete: boolean;
  elapsedMs: number;
}

/** One request as the SPA sends it; never rejects, and gives up after `boundMs`. */
function attempt(
  t: TestApp,
  cookie: string,
  path: string,
  method = 'GET',
  boundMs = 4 * GATHER_TIMEOUT_MS,
): Promise<Outcome> {
  const { port } = new URL(t.url);
  const startedAt = Date.now();
  return new Promise((resolve) => {
    let status = 0;
    const chunks: Buffer[] = [];
    const done = (complete: boolean): void =>
      resolve({
        status,
        text: Buffer.concat(chunks).toString('utf8'),
        complete,
        elapsedMs: Date.now() - startedAt,
      });
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        headers: { ...SPA_HEADERS, cookie },
        timeout: boundMs,
      },
      (res) => {
        status = res.statusCode ?? 0;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(res.complete));
        res.on('error', () => done(false));
        res.on('aborted', () => done(false));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(false));
    req.end();
  });
}

/** Each test fails on an unhandled rejection anywhere in the process while it ran. */
const rejections: unknown[] = [];
const onRejection = (reason: unknown): void => void rejections.push(reason);
beforeAll(() => process.on('unhandledRejection', onRejection));
afterAll(() => process.off('unhandledRejection', onRejection));
afterEach(() => expect(rejections.splice(0)).toEqual([]));

describe('Gather misbehaving (docs/contract.md, "Headers to the browser", "Error codes")', () => {
  let t: TestApp;
  let cookie: string;
  let gather: { baseUrl: string; close(): Promise<void> };
  /** What the stand-in for Gather does with the next request on a connection. */
  let behave: (s: Socket, request: string) => void;
  const timers = new Set<NodeJS.Timeout>();

  const answerOk = (s: Socket): void => {
    s.end(
      'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
    );
  };

  beforeAll(async () => {
    gather = await startRawServer((s) =>
      s.once('data', (c: Buffer) => behave(s, c.toString('latin1'))),
    );
    const usersFile = await writeUsersFile([{ ...USER, name: 'Ada', email: 'a@example.com' }]);
    t = await startTestApp({
      GATHER_BASE_URL: gather.baseUrl,
      AUTH_LOCAL_USERS_FILE: usersFile,
      GATHER_TIMEOUT_MS: String(GATHER_TIMEOUT_MS),
      RATE_LIMIT_USER_LIMIT: '100000',
    });
    cookie = await signIn(t, USER.username, USER.password);
  });
  afterEach(async () => {
    for (const timer of timers) clearInterval(timer);
    timers.clear();
    // The next normal request succeeds.
    behave = answerOk;
    const next = await attempt(t, cookie, '/api/gather/next');
    expect(next.status).toBe(200);
    expect(next.text).toBe('{}');
  });
  afterAll(async () => {
    await t.close();
    await gather.close();
  });

  const trickle = (s: Socket, text: string, everyMs: number): void => {
    let i = 0;
    const timer = setInterval(() => {
      if (s.destroyed || i >= text.length) return clearInterval(timer);
      s.write(text[i++] as string);
    }, everyMs);
    timers.add(timer);
  };

  it.each<[string, (s: Socket) => void, string?]>([
    ['hangs', () => undefined],
    [
      'sends its headers a byte at a time, never finishing them',
      (s) => {
        s.write('HTTP/1.1 200 OK\r\n');
        trickle(s, `X-Slow: ${'a'.repeat(1000)}`, GATHER_TIMEOUT_MS / 5);
      },
    ],
  ])('answers 504 GATEWAY_TIMEOUT when Gather %s', async (_what, misbehave) => {
    behave = misbehave;
    const res = await attempt(t, cookie, '/api/gather/x');
    expect(res.status).toBe(504);
    expect(res.text).toContain('"code":"GATEWAY_TIMEOUT"');
    // Cut at the deadline, not by the client's own bound.
    expect(res.elapsedMs).toBeLessThan(2 * GATHER_TIMEOUT_MS);
  });

  it.each<[string, (s: Socket) => void, string?]>([
    ['resets the connection before answering', (s) => s.resetAndDestroy()],
    ['answers with something that is not HTTP', (s) => s.end('SSH-2.0-OpenSSH_9.6\r\n\r\n')],
    [
      'sends a Content-Length that is not a number',
      (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n{}'),
    ],
    [
      'sends 200 kB of headers',
      (s) => s.end(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(200_000)}\r\n\r\n`),
    ],
    [
      'answers a plain request with 101',
      (s) =>
        s.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhello',
        ),
    ],
    [
      'sends a body with a 204',
      (s) => s.write('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello'),
    ],
    [
      'sends a body with a 304',
      (s) => s.write('HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello'),
    ],
    [
      'sends a body with its answer to HEAD',
      (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'),
      'HEAD',
    ],
  ])('answers 502 BAD_GATEWAY when Gather %s', async (_what, misbehave, method = 'GET') => {
    behave = misbehave;
    const res = await attempt(t, cookie, '/api/gather/x', method);
    expect(res.status).toBe(502);
    if (method !== 'HEAD') expect(res.text).toContain('"code":"BAD_GATEWAY"');
    expect(res.text).not.toContain('127.0.0.1');
    expect(res.elapsedMs).toBeLessThan(2 * GATHER_TIMEOUT_MS);
  });

  it.each<[string, (s: Socket) => void]>([
    [
      'resets the connection in the middle of the body',
      (s) => {
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n${'x'.repeat(10)}`);
        setTimeout(() => s.resetAndDestroy(), 50);
      },
    ],
    [
      'sends a broken chunk',
      (s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n'),
    ],
    [
      'stops sending inside the body',
      (s) => s.write(`HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n${'x'.repeat(10)}`),
    ],
  ])(
    "cuts the browser's answer, or answers 502, when Gather %s after the head",
    async (_what, misbehave) => {
      behave = misbehave;
      const res = await attempt(t, cookie, '/api/gather/x');
      // A failure in the read that brought the head comes before the BFF sends anything: the
      // 502 envelope, whole. Later, the head may or may not have reached the browser before the cut.
      if (res.status === 502) {
        expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'BAD_GATEWAY' } });
        expect(res.complete).toBe(true);
      } else {
        expect([0, 200]).toContain(res.status);
        expect(res.complete).toBe(false);
      }
      expect(res.elapsedMs).toBeLessThan(2 * GATHER_TIMEOUT_MS);
    },
  );

  /** A proxied GET whose answer the browser stops reading once it has the head. */
  const pausedAnswer = async (path: string): Promise<IncomingMessage> =>
    (await openSpaGet(t.url, path, cookie).response).pause();

  it('lets a browser that holds the answer back pause longer than GATHER_TIMEOUT_MS', async () => {
    // Gather sends without pausing; it is the browser that stops reading, and backpressure
    // stalls Gather. That pause is the browser's, not Gather's: the answer must not be cut.
    const size = 32 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 'z');
    let written = 0;
    let blocked = false;
    behave = (s) => {
      s.write(
        `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`,
      );
      const pump = (): void => {
        blocked = false;
        while (written < size) {
          written += chunk.length;
          if (!s.write(chunk)) {
            blocked = true;
            s.once('drain', pump);
            return;
          }
        }
      };
      pump();
    };
    const res = await pausedAnswer('/api/gather/download');
    const pausedAt = Date.now();
    await untilStalled(
      () => blocked,
      () => written,
    );
    expect(written).toBeLessThan(size);
    // Held back for more than GATHER_TIMEOUT_MS once Gather is blocked, and far less than the
    // four the BFF allows a browser, however long the stall took to show.
    await sleep(Math.max(1.2 * GATHER_TIMEOUT_MS, pausedAt + 2 * GATHER_TIMEOUT_MS - Date.now()));
    let receivedBytes = 0;
    res.on('data', (c: Buffer) => (receivedBytes += c.length));
    // Ends either way: whole, or cut by the BFF (then an 'aborted' error, and incomplete).
    const closed = new Promise((resolve) => res.once('close', resolve));
    res.on('error', () => undefined).resume();
    await closed;
    expect(res.complete).toBe(true);
    expect(receivedBytes).toBe(size);
  });

  it('closes the answer, and the connection to Gather, of a browser that never takes it', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'z');
    let gatherSocket: Socket | undefined;
    behave = (s) => {
      gatherSocket = s;
      s.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n');
      const pump = (): void => {
        while (s.write(chunk));
        s.once('drain', pump);
      };
      pump();
    };
    const res = await pausedAnswer('/api/gather/endless');
    const before = t.logs().split(STALLED).length;
    // Closed by the BFF after four GATHER_TIMEOUT_MS of taking nothing, Gather's end first.
    await until(() => gatherSocket?.destroyed === true, 8 * GATHER_TIMEOUT_MS);
    expect(t.logs().split(STALLED).length).toBe(before + 1);
    // A paused socket does not read the close: the browser sees it once it reads again.
    const closed = new Promise((resolve) => res.once('close', resolve));
    res.on('error', () => undefined).resume();
    await closed;
    expect(res.complete).toBe(false);
  });

  /** A request head on a raw browser connection, kept alive (HTTP/1.1's default). */
  const rawRequest = (method: string, path: string, more = ''): string =>
    `${method} ${path} HTTP/1.1\r\nHost: x\r\nOrigin: ${TEST_ORIGIN}\r\nX-CSRF: 1\r\nCookie: ${cookie}\r\n${more}\r\n`;
  /** What a raw browser connection has received so far. */
  const received = (socket: Socket): (() => string) => {
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    return () => text;
  };
  const STRAY = 'Gather sent a body after a bodyless answer';
  const strays = (): number => t.logs().split(STRAY).length - 1;

  it.each<[string, string, string, number]>([
    ['a 204', 'GET', 'HTTP/1.1 204 No Content\r\n\r\n', 204],
    ['a 304', 'GET', 'HTTP/1.1 304 Not Modified\r\n\r\n', 304],
    ['its answer to HEAD', 'HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 200],
  ])(
    "closes the browser's connection when Gather sends a body after %s has reached the browser",
    async (_what, method, head, status) => {
      let gatherSocket: Socket | undefined;
      behave = (s) => {
        gatherSocket = s;
        s.write(head);
      };
      const browser = openRaw(t.url, rawRequest(method, '/api/gather/x'), GATHER_TIMEOUT_MS);
      const text = received(browser.socket);
      await until(() => text().includes('\r\n\r\n'));
      const before = strays();
      gatherSocket?.write('hello');
      const answer = await browser.answer;
      expect(parseRawAnswer(answer.text)).toMatchObject({ status, body: '' });
      // Closed by the BFF, not left open until the test gave up at GATHER_TIMEOUT_MS.
      expect(answer.closedAfterMs).toBeDefined();
      expect(strays()).toBe(before + 1);
    },
  );

  const SMUGGLED = 'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled';
  it.each<[string, string, string, boolean]>([
    ['a 204', 'GET', 'HTTP/1.1 204 No Content\r\n\r\n', false],
    ['a 304', 'GET', 'HTTP/1.1 304 Not Modified\r\n\r\n', false],
    ['its answer to HEAD', 'HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', false],
    ['a 204, in a write of its own', 'GET', 'HTTP/1.1 204 No Content\r\n\r\n', true],
    [
      'its answer to HEAD, in a write of its own',
      'HEAD',
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n',
      true,
    ],
  ])(
    "answers 502 or closes the browser's connection when Gather sends a whole response along with %s",
    async (_what, method, head, apart) => {
      behave = (s) => {
        if (!apart) return void s.write(head + SMUGGLED);
        s.write(head);
        setImmediate(() => s.write(SMUGGLED));
      };
      const browser = openRaw(t.url, rawRequest(method, '/api/gather/x'), GATHER_TIMEOUT_MS);
      const answer = await browser.answer;
      expect(answer.text).not.toContain('smuggled');
      expect(answer.text.match(/^HTTP\/1\.1 /gm)).toHaveLength(1);
      const { status, body } = parseRawAnswer(answer.text);
      if (status === 502) {
        if (method !== 'HEAD') {
          expect(JSON.parse(body)).toMatchObject({ error: { code: 'BAD_GATEWAY' } });
        }
      } else {
        // Closed by the BFF, not left open until the test gave up at GATHER_TIMEOUT_MS.
        expect(answer.closedAfterMs).toBeDefined();
      }
    },
  );

  it('lets the answer the browser is then waiting for finish first, then closes its connection', async () => {
    // The browser's next request is still sending its body when the stray body comes: its
    // answer has not begun, and goes out with Connection: close.
    let first: Socket | undefined;
    behave = (s, request) => {
      if (request.includes('/first')) (first = s).write('HTTP/1.1 204 No Content\r\n\r\n');
      else s.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd');
    };
    const browser = openRaw(t.url, rawRequest('GET', '/api/gather/first'), GATHER_TIMEOUT_MS);
    const text = received(browser.socket);
    await until(() => text().includes('\r\n\r\n'));
    const expectBody =
      'Content-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n';
    browser.socket.write(rawRequest('POST', '/api/gather/second', expectBody));
    // Node's 100 Continue: the request is in, its answer not begun.
    await until(() => text().includes('100 Continue'));
    const before = strays();
    first?.write('hello');
    // The BFF's end of that connection (dropped by Node for the stray body) closes before this one.
    await until(() => first?.destroyed === true);
    browser.socket.write('{}');
    const answer = await browser.answer;
    const second = parseRawAnswer(answer.text.slice(answer.text.indexOf('HTTP/1.1 200')));
    expect(second).toMatchObject({ status: 200, body: 'abcd' });
    expect(second.headers.connection).toBe('close');
    expect(answer.closedAfterMs).toBeDefined();
    expect(strays()).toBe(before + 1);
  });

  it('answers 502 BAD_GATEWAY when Gather refuses the connection', async () => {
    const other = await startTestApp({
      GATHER_BASE_URL: `http://127.0.0.1:${await freePort()}/qsi/gather`,
      AUTH_LOCAL_USERS_FILE: await writeUsersFile([
        { ...USER, name: 'Ada', email: 'a@example.com' },
      ]),
    });
    try {
      const c = await signIn(other, USER.username, USER.password);
      const res = await attempt(other, c, '/api/gather/x');
      expect(res.status).toBe(502);
      expect(res.text).toContain('"code":"BAD_GATEWAY"');
    } finally {
      await other.close();
    }
  });

  it('never shows the key in a response or a log line', () => {
    expect(t.logs()).not.toContain(TEST_KEY);
  });
});

describe('Gather slow across attempts: one deadline per request, not per attempt', () => {
  // Long enough that the cut at the deadline and a second full deadline are seconds apart.
  const TIMEOUT_MS = 3000;
  /** Most that a cut at the deadline may take past it on a busy machine. */
  const SLACK_MS = 1300;
  const oldKey = 'qapi_oldKEY0123456789abcdefgh';
  const newKey = 'qapi_newKEY0123456789abcdefgh';
  let t: TestApp;
  let cookie: string;
  let keyFile: string;
  let gather: { baseUrl: string; close(): Promise<void> };
  /** What the stand-in does with each request: `n` counts requests, on any connection. */
  let behave: (s: Socket, request: string, n: number) => void;
  let requests = 0;
  const timers = new Set<NodeJS.Timeout>();
  const later = (fn: () => void, ms: number): void => void timers.add(setTimeout(fn, ms));

  beforeAll(async () => {
    // Each request arrives in one read here (small, on loopback).
    gather = await startRawServer((s) =>
      s.on('data', (c: Buffer) => behave(s, c.toString('latin1'), requests++)),
    );
    keyFile = join(await tempDir('gather-key-'), 'key');
    await writeFile(keyFile, `${oldKey}\n`);
    t = await startTestApp({
      GATHER_BASE_URL: gather.baseUrl,
      GATHER_API_KEY: undefined,
      GATHER_API_KEY_FILE: keyFile,
      AUTH_LOCAL_USERS_FILE: await writeUsersFile([
        { ...USER, name: 'Ada', email: 'a@example.com' },
      ]),
      GATHER_TIMEOUT_MS: String(TIMEOUT_MS),
    });
    cookie = await signIn(t, USER.username, USER.password);
  });
  beforeEach(() => {
    requests = 0;
  });
  afterEach(() => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  });
  afterAll(async () => {
    await t.close();
    await gather.close();
  });

  it('a GET retried after a reset late in the wait still ends at the first deadline', async () => {
    // The first attempt's connection is reset unanswered near the deadline; the retry's hangs.
    behave = (s, _request, n) => {
      if (n === 0) later(() => s.resetAndDestroy(), TIMEOUT_MS * 0.9);
    };
    const res = await attempt(t, cookie, '/api/gather/x', 'GET', 4 * TIMEOUT_MS);
    expect(requests).toBe(2);
    expect(res.status).toBe(504);
    expect(res.elapsedMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);
  });

  it('a replay after the key was refused late in the wait still ends at the first deadline', async () => {
    behave = (s, request) => {
      if (!request.includes(oldKey)) return; // the replay, with the new key: never answered
      later(() => {
        const body =
          '{"error":{"code":"UNAUTHORIZED","message":"bad key"},"meta":{"requestId":"g-1"}}';
        void writeFile(keyFile, `${newKey}\n`).then(() =>
          s.write(`HTTP/1.1 401 Unauthorized\r\nContent-Length: ${body.length}\r\n\r\n${body}`),
        );
      }, TIMEOUT_MS * 0.9);
    };
    const res = await attempt(t, cookie, '/api/gather/x', 'GET', 4 * TIMEOUT_MS);
    expect(requests).toBe(2);
    expect(res.status).toBe(504);
    expect(res.elapsedMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);
  });

  it('reloads the key and replays when a 401 comes with a body sent slowly', async () => {
    // Whatever key the BFF holds now is refused; the file then holds another.
    const nextKey = 'qapi_nextKEY0123456789abcdefg';
    behave = (s, _request, n) => {
      if (n === 0) {
        void writeFile(keyFile, `${nextKey}\n`).then(() => {
          s.write('HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\n\r\n{');
          // The rest never comes within the deadline.
          later(() => s.write('"a":1'), TIMEOUT_MS * 2);
        });
      } else s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}');
    };
    const res = await attempt(t, cookie, '/api/gather/x', 'GET', 4 * TIMEOUT_MS);
    expect(requests).toBe(2);
    expect([res.status, res.text, res.complete]).toEqual([200, '{}', true]);
    expect(res.elapsedMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);
  });

  it('passes an error body Gather sends slowly through once the deadline passes, head first', async () => {
    const body = 'x'.repeat(12);
    behave = (s) => {
      s.write(`HTTP/1.1 500 Internal Server Error\r\nContent-Length: ${body.length}\r\n\r\n`);
      // One byte every half deadline: no pause is too long, but the whole takes six deadlines.
      let sent = 0;
      const tick = (): void => {
        if (s.destroyed || sent === body.length) return;
        s.write(body[sent++] as string);
        later(tick, TIMEOUT_MS / 2);
      };
      tick();
    };
    const startedAt = Date.now();
    const { port } = new URL(t.url);
    const headAt = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/api/gather/slow-error',
          agent: false,
          headers: { ...SPA_HEADERS, cookie },
        },
        (res) => {
          expect(res.statusCode).toBe(500);
          resolve(Date.now() - startedAt);
          res.destroy();
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(headAt).toBeLessThan(TIMEOUT_MS + SLACK_MS);
  });
});

describe('a connection that pipelines and never reads its answers', () => {
  let fake: FakeGather;
  let t: TestApp;
  let cookie: string;

  beforeAll(async () => {
    fake = await startFakeGather();
    // One buffer for every answer: the fake runs in this process, its memory must not count.
    const body = Buffer.alloc(256 * 1024, 'x');
    fake.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(body);
    };
    t = await startTestApp({
      GATHER_BASE_URL: fake.baseUrl,
      AUTH_LOCAL_USERS_FILE: await writeUsersFile([
        { ...USER, name: 'Ada', email: 'a@example.com' },
      ]),
      RATE_LIMIT_USER_LIMIT: '100000',
      LOG_LEVEL: 'warn',
    });
    cookie = await signIn(t, USER.username, USER.password);
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it('holds nobody else up and grows memory by less than 200 MB', async () => {
    const rssBefore = process.memoryUsage().rss;
    const socket = createConnection(Number(new URL(t.url).port), '127.0.0.1');
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    socket.pause();
    const one = `GET /api/gather/big HTTP/1.1\r\nHost: x\r\nOrigin: ${TEST_ORIGIN}\r\nX-CSRF: 1\r\nCookie: ${cookie}\r\n\r\n`;
    // 2000 requests for 256 kB each: 500 MB of answers if the BFF buffered them all.
    socket.write(one.repeat(2000));
    await new Promise((r) => setTimeout(r, 500));
    const others: Outcome[] = [];
    for (let i = 0; i < 5; i++) others.push(await attempt(t, cookie, '/api/gather/other'));
    for (const other of others) {
      expect(other.status).toBe(200);
      expect(other.elapsedMs).toBeLessThan(1000);
    }
    const grownMb = (process.memoryUsage().rss - rssBefore) / 1e6;
    expect(grownMb).toBeLessThan(200);
    socket.destroy();
  });
});

describe('Redis stopped, started and frozen in the middle of traffic', () => {
  let redis: SpawnedRedis;
  let fake: FakeGather;
  let t: TestApp;
  let cookie: string;

  beforeAll(async () => {
    redis = await spawnRedis();
    fake = await startFakeGather();
    t = await startTestApp({
      GATHER_BASE_URL: fake.baseUrl,
      AUTH_LOCAL_USERS_FILE: await writeUsersFile([
        { ...USER, name: 'Ada', email: 'a@example.com' },
      ]),
      REDIS_URL: redis.url,
    });
    cookie = await signIn(t, USER.username, USER.password);
  });
  afterAll(async () => {
    redis.resume();
    await t.close();
    await fake.close();
    await redis.stop();
  });

  /** Requests back to back until stopped; every status seen. */
  const traffic = (): { stop(): Promise<number[]> } => {
    const statuses: number[] = [];
    let running = true;
    const loop = (async () => {
      while (running) statuses.push((await attempt(t, cookie, '/api/gather/q')).status);
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return statuses;
      },
    };
  };

  it('answers 503 while Redis is gone, and serves again once it is back', async () => {
    const load = traffic();
    await until(async () => (await attempt(t, cookie, '/api/gather/q')).status === 200);
    await redis.stop();
    await until(async () => (await attempt(t, cookie, '/api/gather/q')).status === 503, 10_000);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    await redis.start();
    // The restarted Redis is empty: the old session is gone, a new sign-in works.
    await until(async () => (await attempt(t, cookie, '/api/gather/q')).status === 401, 15_000);
    cookie = await signIn(t, USER.username, USER.password);
    expect((await attempt(t, cookie, '/api/gather/q')).status).toBe(200);
    const seen = new Set(await load.stop());
    for (const status of seen) expect([200, 401, 503]).toContain(status);
  }, 60_000);

  it('answers 503 instead of hanging while Redis is frozen, and the same session works after', async () => {
    const load = traffic();
    redis.pause();
    try {
      const frozen = await attempt(t, cookie, '/api/gather/q');
      expect(frozen.status).toBe(503);
      expect(frozen.text).toContain('"code":"SERVICE_UNAVAILABLE"');
    } finally {
      redis.resume();
    }
    await until(async () => (await attempt(t, cookie, '/api/gather/q')).status === 200, 15_000);
    const seen = new Set(await load.stop());
    for (const status of seen) expect([200, 503]).toContain(status);
  }, 60_000);
});

describe('a secret manager slow or failing during the timed key reload', () => {
  const FIRST = 'qapi_vaultFIRST0123456789abcdef';
  const SECOND = 'qapi_vaultSECOND0123456789abcde';
  let vault: FakeVault;
  let fake: FakeGather;
  let t: TestApp;
  let cookie: string;

  beforeAll(async () => {
    vault = await FakeVault.start();
    vault.tokens.add('hvs.bff');
    vault.kv.set('secret/gather', { api_key: FIRST });
    fake = await startFakeGather();
    t = await startTestApp({
      GATHER_API_KEY: undefined,
      GATHER_API_KEY_REF: 'vault:secret/gather#api_key',
      VAULT_ADDR: vault.url,
      VAULT_TOKEN: 'hvs.bff',
      GATHER_API_KEY_REFRESH_SECONDS: '1',
      GATHER_BASE_URL: fake.baseUrl,
      AUTH_LOCAL_USERS_FILE: await writeUsersFile([
        { ...USER, name: 'Ada', email: 'a@example.com' },
      ]),
    });
    cookie = await signIn(t, USER.username, USER.password);
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
    await vault.close();
  });

  const keyGatherGot = async (): Promise<unknown> => {
    fake.reset();
    expect((await attempt(t, cookie, '/api/gather/q')).status).toBe(200);
    return fake.requests[0]?.headers['x-api-key'];
  };

  it('keeps serving with the last good key while Vault hangs or fails, and takes the new one after', async () => {
    expect(await keyGatherGot()).toBe(FIRST);
    vault.hang = true;
    const hangingSince = vault.calls.length;
    await until(() => vault.calls.length > hangingSince, 5000);
    for (let i = 0; i < 3; i++) expect(await keyGatherGot()).toBe(FIRST);
    vault.hang = false;
    vault.kv.delete('secret/gather');
    const failingSince = vault.calls.length;
    await until(() => vault.calls.length > failingSince + 1, 15_000);
    expect(await keyGatherGot()).toBe(FIRST);
    vault.kv.set('secret/gather', { api_key: SECOND });
    await until(async () => (await keyGatherGot()) === SECOND, 15_000);
    const logs = t.logs();
    for (const key of [FIRST, SECOND]) expect(logs).not.toContain(key);
  }, 60_000);
});
