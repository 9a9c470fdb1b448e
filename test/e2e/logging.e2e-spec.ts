import { randomUUID } from 'node:crypto';
import { startFakeGather, type FakeGather } from '../fakes/fake-gather';
import { startChildApp, type ChildApp } from '../support/child-app';
import { parseRawAnswer, rawExchange, send } from '../support/http';
import { spawnRedis, type SpawnedRedis } from '../support/redis';
import { signIn, writeUsersFile } from '../support/session';
import { startTestApp, TEST_ORIGIN, type TestApp } from '../support/start-app';
import { until } from '../support/until';

interface RequestLine {
  msg: string;
  req: { id: string; method: string; url: string };
  res: { statusCode: number };
  responseTime: number;
  userId?: string;
  gatherRequestId?: string;
}

describe('request logs', () => {
  let fake: FakeGather;
  let t: TestApp;
  let cookie: string;
  beforeAll(async () => {
    fake = await startFakeGather();
    const usersFile = await writeUsersFile([
      { username: 'ada', password: 'correct horse battery', name: 'Ada', email: 'ada@example.com' },
    ]);
    t = await startTestApp({ GATHER_BASE_URL: fake.baseUrl, AUTH_LOCAL_USERS_FILE: usersFile });
    cookie = await signIn(t, 'ada', 'correct horse battery');
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  const lineFor = (requestId: string): { raw: string; parsed: RequestLine } => {
    const raw = t
      .logs()
      .split('\n')
      .find((l) => l.includes(`"id":"${requestId}"`) && l.includes('request completed'));
    if (!raw) throw new Error(`no completion line for ${requestId}`);
    return { raw, parsed: JSON.parse(raw) as RequestLine };
  };

  it('writes one JSON line per request with request id, user, status, latency and Gather request id', async () => {
    fake.handle = (_req, res) => {
      res.writeHead(200, { 'x-request-id': 'gather-77' });
      res.end('{}');
    };
    const res = await send(t.url, {
      path: '/api/gather/questions?page=2',
      headers: { cookie, 'x-csrf': '1', origin: TEST_ORIGIN, authorization: 'Bearer secret-token' },
    });
    expect(res.status).toBe(200);
    const ourId = fake.requests[0]!.headers['x-request-id'] as string;
    const { raw, parsed } = lineFor(ourId);
    expect(parsed.req).toEqual({ id: ourId, method: 'GET', url: '/api/gather/questions?page=2' });
    expect(parsed.res).toEqual({ statusCode: 200 });
    expect(parsed.userId).toBe('ada');
    expect(parsed.gatherRequestId).toBe('gather-77');
    expect(typeof parsed.responseTime).toBe('number');
    // Every key once: a duplicated key is invalid for most log pipelines.
    expect(raw.match(/"userId"/g)).toHaveLength(1);
    expect(raw).not.toContain('secret-token');
    expect(raw).not.toContain(cookie.split('=')[1]);
  });

  it("never logs the OIDC callback's code and state", async () => {
    const res = await send(t.url, { path: '/auth/callback?code=secret-code-123&state=s-456' });
    const { raw, parsed } = lineFor(res.headers['x-request-id'] as string);
    expect(parsed.req.url).toBe('/auth/callback?[redacted]');
    expect(raw).not.toContain('secret-code-123');
  });

  it.each([
    ['a trailing slash', '/auth/callback/?code=CODE&state=STATE'],
    ['another case', '/Auth/Callback?code=CODE&state=STATE'],
    ['a doubled slash', '//auth/callback?code=CODE&state=STATE'],
    ['the absolute form', 'http://localhost:3000/auth/callback?code=CODE&state=STATE'],
    ['another /auth route', '/auth/login?code=CODE&state=STATE'],
  ])('never logs a code or state sent with %s', async (_case, target) => {
    const code = `code-${randomUUID()}`;
    const state = `state-${randomUUID()}`;
    const request = `GET ${target.replace('CODE', code).replace('STATE', state)} HTTP/1.1`;
    const answer = parseRawAnswer(
      await rawExchange(t.url, `${request}\r\nHost: localhost:3000\r\nConnection: close\r\n\r\n`),
    );
    const requestId = answer.headers['x-request-id'] as string;
    expect(requestId).toBeDefined();
    await until(() => t.logs().includes(`"id":"${requestId}"`));
    expect(t.logs()).not.toContain(code);
    expect(t.logs()).not.toContain(state);
  });

  it('logs an error answer with its request id and no user when signed out', async () => {
    const res = await send(t.url, { path: '/api/gather/questions', headers: { 'x-csrf': '1' } });
    expect(res.status).toBe(401);
    const { parsed } = lineFor(res.headers['x-request-id'] as string);
    expect(parsed.res.statusCode).toBe(401);
    expect(parsed.userId).toBeUndefined();
  });
});

describe('the log on stdout, as the service writes it', () => {
  let app: ChildApp | undefined;
  afterEach(() => app?.stop());

  it('writes a lone request line soon (batches are flushed every 250 ms), and the last ones at exit', async () => {
    app = await startChildApp();
    const child = app;
    const first = `/nope-${randomUUID()}`;
    await fetch(`${child.url}${first}`);
    // Far below 4 KiB: only the periodic flush can write it while the process runs.
    await until(() => child.output().includes(first), 5000);
    const last = `/nope-${randomUUID()}`;
    await fetch(`${child.url}${last}`);
    child.process.kill('SIGTERM');
    await child.exited;
    expect(child.output()).toContain(last);
  });
});

describe('logs while Redis is down', () => {
  let redis: SpawnedRedis;
  let t: TestApp;
  let cookie: string;
  beforeAll(async () => {
    redis = await spawnRedis();
    const usersFile = await writeUsersFile([
      { username: 'ada', password: 'correct horse battery', name: 'Ada', email: 'ada@example.com' },
    ]);
    t = await startTestApp({ REDIS_URL: redis.url, AUTH_LOCAL_USERS_FILE: usersFile });
    cookie = await signIn(t, 'ada', 'correct horse battery');
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  /** This app's lines since `from` (the file's apps share one log). */
  const linesSince = (from: number): Record<string, unknown>[] =>
    t
      .logs()
      .slice(from)
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it('logs readiness once per change, not per probe, and the 503 refusals at warn without a stack', async () => {
    expect((await send(t.url, { path: '/readyz' })).status).toBe(200);
    const from = t.logs().length;
    await redis.stop();

    const probes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await send(t.url, { path: '/readyz' });
      expect(res.status).toBe(503);
      probes.push(res.headers['x-request-id'] as string);
    }
    const me = await send(t.url, { path: '/auth/me', headers: { cookie } });
    expect(me.status).toBe(503);

    const lines = linesSince(from);
    const readiness = lines.filter((l) => /ready/.test(String(l.msg)) && l.context === 'Readiness');
    expect(readiness).toHaveLength(1);
    expect(readiness[0]).toMatchObject({ level: 40, msg: 'not ready' });
    expect(readiness[0]?.failing).toEqual(expect.arrayContaining(['session-store']));
    // The probes' own request lines are below the info level: none of them is written.
    const ids = (l: Record<string, unknown>) => (l.req as { id?: string } | undefined)?.id;
    expect(lines.filter((l) => probes.includes(ids(l) as string) && 'res' in l)).toEqual([]);
    const refused = lines.filter((l) => ids(l) === me.headers['x-request-id'] && 'res' in l);
    expect(refused).toEqual([
      expect.objectContaining({ level: 40, msg: 'request refused', res: { statusCode: 503 } }),
    ]);
    for (const line of lines) expect(JSON.stringify(line)).not.toContain('"stack"');

    const back = t.logs().length;
    await redis.start();
    await until(async () => (await send(t.url, { path: '/readyz' })).status === 200, 15_000);
    await send(t.url, { path: '/readyz' });
    const again = linesSince(back).filter((l) => l.context === 'Readiness');
    expect(again).toEqual([expect.objectContaining({ level: 30, msg: 'ready again' })]);
  });
});
