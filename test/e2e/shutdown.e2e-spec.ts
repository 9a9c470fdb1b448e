import { once } from 'node:events';
import { Agent, type ServerResponse } from 'node:http';
import { createConnection } from 'node:net';
import { startFakeGather, type FakeGather } from '../fakes/fake-gather';
import { CHILD_START_MS, startChildApp, type ChildApp } from '../support/child-app';
import { get, idleSocketOf, send, type Envelope } from '../support/http';
import { writeUsersFile, signIn } from '../support/session';
import { until, SPA_HEADERS } from '../support/spa';

/** Each test starts the service in a process of its own, which transpiles the sources first. */
jest.setTimeout(3 * CHILD_START_MS);

/** What the fake Gather saw of a request it holds open until the test releases it. */
interface HeldCall {
  /** Sends Gather's 200. */
  release(): void;
  /** Whether Gather's connection for it closed before its answer was complete. */
  cut(): boolean;
}

function holdNextCall(fake: FakeGather): HeldCall {
  let res: ServerResponse | undefined;
  let cut = false;
  fake.handle = (_req, r) => {
    res = r;
    r.on('close', () => (cut = !r.writableFinished));
  };
  return {
    release: () => {
      res?.writeHead(200, { 'content-type': 'application/json' });
      res?.end('{"slow":true}');
    },
    cut: () => cut,
  };
}

describe('graceful shutdown on SIGTERM and SIGINT', () => {
  let fake: FakeGather;
  let usersFile: string;
  let app: ChildApp | undefined;
  const agents: Agent[] = [];
  const keepAlive = (): Agent => {
    const agent = new Agent({ keepAlive: true });
    agents.push(agent);
    return agent;
  };

  beforeAll(async () => {
    fake = await startFakeGather();
    usersFile = await writeUsersFile([
      { username: 'ada', password: 'correct horse battery', name: 'Ada', email: 'a@example.com' },
    ]);
  });
  afterEach(async () => {
    for (const agent of agents.splice(0)) agent.destroy();
    fake.reset();
    await app?.stop();
    app = undefined;
  });
  afterAll(() => fake.close());

  const start = async (graceSeconds: number): Promise<{ app: ChildApp; cookie: string }> => {
    app = await startChildApp({
      GATHER_BASE_URL: fake.baseUrl,
      AUTH_LOCAL_USERS_FILE: usersFile,
      SHUTDOWN_GRACE_SECONDS: String(graceSeconds),
    });
    return { app, cookie: await signIn(app, 'ada', 'correct horse battery') };
  };
  const proxied = (cookie: string) => ({ ...SPA_HEADERS, cookie });

  it('answers /readyz 503 at once, closes idle connections, lets a slow proxied call finish with 200 and exits 0', async () => {
    const { app, cookie } = await start(120);
    const idle = keepAlive();
    expect((await get(app.url, '/healthz', idle)).headers.connection).toBe('keep-alive');
    const idleSocket = idleSocketOf(idle);
    let idleClosed = false;
    idleSocket.once('close', () => (idleClosed = true));
    const held = holdNextCall(fake);
    const slow = get(app.url, '/api/gather/slow', keepAlive(), proxied(cookie));
    await until(() => fake.requests.length === 1);

    app.process.kill('SIGTERM');

    // The listener stays open while draining: probes and new requests are still answered.
    await until(async () => (await send(app.url, { path: '/readyz' })).status === 503);
    const ready = await send(app.url, { path: '/readyz' });
    expect(ready.json<Envelope>().error).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: 'Shutting down',
    });
    expect(ready.headers['x-request-id']).toBe(ready.json<Envelope>().meta.requestId);
    await until(() => idleClosed);
    const during = await get(app.url, '/healthz', keepAlive());
    expect(during.status).toBe(200);
    expect(during.headers.connection).toBe('close');

    held.release();
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('{"slow":true}');
    // Its connection was busy when the drain began: the last answer on it says so.
    expect(answer.headers.connection).toBe('close');
    expect(held.cut()).toBe(false);
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(app.output()).toContain('"outcome":"idle"');
  });

  it('cuts a call still running at SHUTDOWN_GRACE_SECONDS, and still exits 0', async () => {
    const { app, cookie } = await start(1);
    const held = holdNextCall(fake);
    const slow = get(app.url, '/api/gather/slow', keepAlive(), proxied(cookie));
    await until(() => fake.requests.length === 1);

    app.process.kill('SIGTERM');

    await expect(slow).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(await app.exited).toEqual({ code: 0, signal: null });
    // Gather's request was aborted with the browser's, not left running.
    await until(() => held.cut());
    expect(app.output()).toContain('"outcome":"cut"');
  });

  it('closes a connection that has not sent a request yet (a preconnect) and drains', async () => {
    // Left open, the preconnect would hold the drain to this grace, and end it as `cut`.
    const { app } = await start(20);
    const { port, hostname } = new URL(app.url);
    const preconnect = createConnection(Number(port), hostname);
    preconnect.on('error', () => undefined);
    await once(preconnect, 'connect');
    const closed = once(preconnect, 'close');

    app.process.kill('SIGTERM');

    expect(await app.exited).toEqual({ code: 0, signal: null });
    await closed;
    expect(app.output()).toContain('"outcome":"idle","msg":"drained"');
  });

  it('exits 0 at once on SIGINT when nothing is in flight', async () => {
    const { app } = await start(120);
    app.process.kill('SIGINT');
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(app.output()).toContain('"outcome":"idle"');
  });
});
