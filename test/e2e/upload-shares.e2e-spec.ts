import { createConnection, type Socket } from 'node:net';
import { startFakeGather, type FakeGather } from '../fakes/fake-gather';
import { send, type Envelope } from '../support/http';
import { remainingOf } from '../support/rate-limit-fields';
import { signIn, writeUsersFile } from '../support/session';
import { SPA_HEADERS } from '../support/spa';
import { startTestApp, type TestApp } from '../support/start-app';
import { until } from '../support/until';

/** The attack's shape: 64 uploads each declaring 1 MiB fill the default 64 MiB budget. */
const UPLOADS = 64;
const DECLARED = 1024 * 1024;
const USER_LIMIT = 120;

/**
 * One user's slow uploads never keep another user's request from Gather: each user holds at most
 * their share of the memory all bodies may hold, and past it only that user is refused
 * (docs/contract.md, "Uploads").
 */
describe("one user's slow uploads and everyone else", () => {
  let fake: FakeGather;
  let t: TestApp;
  let ada: string;
  let bob: string;
  const sockets: Socket[] = [];
  let trickle: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    fake = await startFakeGather();
    const usersFile = await writeUsersFile([
      { username: 'ada', password: 'correct horse battery', name: 'Ada', email: 'a@example.com' },
      { username: 'bob', password: 'battery staple horse', name: 'Bob', email: 'b@example.com' },
    ]);
    t = await startTestApp({ GATHER_BASE_URL: fake.baseUrl, AUTH_LOCAL_USERS_FILE: usersFile });
    ada = await signIn(t, 'ada', 'correct horse battery');
    bob = await signIn(t, 'bob', 'battery staple horse');
  });
  afterAll(async () => {
    clearInterval(trickle);
    for (const s of sockets) s.destroy();
    await t.close();
    await fake.close();
  });

  const spa = (cookie: string): Record<string, string> => ({
    ...SPA_HEADERS,
    cookie,
    'content-type': 'application/octet-stream',
  });

  /** How many of ada's requests her per-user limit has counted, by a GET of her own (counted too). */
  let looks = 0;
  const countedForAda = async (): Promise<number> => {
    looks += 1;
    const res = await send(t.url, { path: '/api/gather/look', headers: spa(ada) });
    return USER_LIMIT - (remainingOf(res.headers) ?? NaN) - looks;
  };

  it("forwards another user's small POST at once, and refuses only that user's next upload with 429", async () => {
    const { port, hostname } = new URL(t.url);
    const head = Object.entries({ ...spa(ada), 'content-length': String(DECLARED) })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    for (let i = 0; i < UPLOADS; i += 1) {
      const socket = createConnection(Number(port), hostname);
      socket.on('error', () => undefined);
      socket.write(`PUT /api/gather/uploads/${i} HTTP/1.1\r\nHost: x\r\n${head}\r\nx`);
      sockets.push(socket);
    }
    // A byte every two seconds on each: inside the pause rule, far below any real upload.
    trickle = setInterval(() => {
      for (const s of sockets) s.write('x');
    }, 2000);
    // Every one of ada's uploads has reached the body step (counted just before it).
    await until(async () => (await countedForAda()) >= UPLOADS);

    const bobs = await send(t.url, {
      method: 'POST',
      path: '/api/gather/answers',
      headers: spa(bob),
      body: '{}',
    });
    expect(bobs.status).toBe(200);
    expect(fake.requests.filter((r) => r.method === 'POST')).toMatchObject([
      { url: '/qsi/gather/answers', body: Buffer.from('{}') },
    ]);

    const adas = await send(t.url, {
      method: 'PUT',
      path: '/api/gather/uploads/next',
      headers: spa(ada),
      body: 'x',
    });
    expect(adas.status).toBe(429);
    const env = adas.json<Envelope>();
    expect(env.error.code).toBe('RATE_LIMITED');
    expect(adas.headers['retry-after']).toBe(String(env.error.details?.retryAfterSeconds));
    expect(Number(adas.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(adas.headers['x-request-id']).toBe(env.meta.requestId);
    // None of ada's uploads reached Gather: each was held or refused.
    expect(fake.requests.filter((r) => r.method === 'PUT')).toHaveLength(0);
  });
});
