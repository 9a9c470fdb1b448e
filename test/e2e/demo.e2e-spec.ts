import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import {
  DEMO_QUESTIONS,
  REVOKED_KEY_PATH,
  THROTTLE_PATH,
  THROTTLE_SECONDS,
  startGatherSimulator,
  type GatherSimulator,
} from '../../src/demo/gather-simulator';
import {
  DEMO_QUESTION_LIMIT,
  DemoRefusedError,
  startDemo,
  type Demo,
} from '../../src/demo/start-demo';
import { UUID, type Envelope } from '../support/http';
import { rateLimitState } from '../support/rate-limit-fields';

/** Checks Gather's envelope around `error` and returns the request id it carried. */
async function expectEnvelope(
  res: Response,
  status: number,
  error: Envelope['error'],
): Promise<string> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  const body = (await res.json()) as Envelope;
  expect(Object.keys(body)).toEqual(['error', 'meta']);
  expect(body.error).toEqual(error);
  expect(Object.keys(body.meta)).toEqual(['requestId', 'timestamp']);
  expect(body.meta.requestId).toMatch(UUID);
  expect(new Date(body.meta.timestamp).toISOString()).toBe(body.meta.timestamp);
  expect(res.headers.get('x-request-id')).toBe(body.meta.requestId);
  return body.meta.requestId;
}

describe('the Gather simulator', () => {
  const apiKey = `qapi_${randomBytes(24).toString('base64url')}`;
  let sim: GatherSimulator;
  beforeAll(async () => {
    sim = await startGatherSimulator({ apiKey });
  });
  afterAll(() => sim.close());

  it('serves under /qsi/gather on loopback', () => {
    expect(sim.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/qsi\/gather$/);
  });

  it('answers a missing x-api-key with Gather envelope, details and a fresh request id each time', async () => {
    const missing = {
      code: 'UNAUTHORIZED',
      message: 'Missing authentication header',
      details: { expectedFormat: 'x-api-key header' },
    };
    const first = await expectEnvelope(await fetch(`${sim.baseUrl}/questions`), 401, missing);
    const second = await expectEnvelope(await fetch(`${sim.baseUrl}/questions`), 401, missing);
    expect(second).not.toBe(first);
  });

  it('answers a wrong key with 401 Invalid API key and no details', async () => {
    for (const wrong of [`${apiKey}x`, apiKey.slice(0, -1), 'qapi_someoneElsesKey123456']) {
      const res = await fetch(`${sim.baseUrl}/questions`, { headers: { 'x-api-key': wrong } });
      await expectEnvelope(res, 401, { code: 'UNAUTHORIZED', message: 'Invalid API key' });
    }
  });

  it('answers an unknown path or question with 404 NOT_FOUND in the same envelope', async () => {
    for (const path of [
      '/qsi/gather/nope',
      '/qsi/gather/questions/q_99',
      '/qsi/gather/questions/q_01/more',
      '/elsewhere',
      `/elsewhere${REVOKED_KEY_PATH}`,
    ]) {
      const res = await fetch(new URL(path, sim.baseUrl), { headers: { 'x-api-key': apiKey } });
      await expectEnvelope(res, 404, { code: 'NOT_FOUND', message: 'Resource not found' });
    }
  });

  it('lists the questions for the right key, with its own x-request-id', async () => {
    const get = () =>
      fetch(`${sim.baseUrl}/questions?limit=10`, { headers: { 'x-api-key': apiKey } });
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const questions = (await res.json()) as { id: string; text: string; category: string }[];
    expect(questions).toEqual(DEMO_QUESTIONS);
    expect(questions.length).toBeGreaterThanOrEqual(3);
    for (const q of questions) {
      expect([typeof q.id, typeof q.text, typeof q.category]).toEqual([
        'string',
        'string',
        'string',
      ]);
    }
    expect(new Set(questions.map((q) => q.id)).size).toBe(questions.length);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(UUID);
    expect((await get()).headers.get('x-request-id')).not.toBe(id);
  });

  it('serves one question by its id', async () => {
    const res = await fetch(`${sim.baseUrl}/questions/q_02`, { headers: { 'x-api-key': apiKey } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(UUID);
    expect(await res.json()).toEqual(DEMO_QUESTIONS[1]);
  });

  it('answers the revoked-key path as Gather refuses a key, even the right one', async () => {
    const res = await fetch(`${sim.baseUrl}${REVOKED_KEY_PATH}`, {
      headers: { 'x-api-key': apiKey },
    });
    await expectEnvelope(res, 401, { code: 'UNAUTHORIZED', message: 'Invalid API key' });
  });

  it('refuses methods other than GET and HEAD on /questions', async () => {
    const res = await fetch(`${sim.baseUrl}/questions`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey },
      body: '{}',
    });
    await expectEnvelope(res, 405, { code: 'METHOD_NOT_ALLOWED', message: 'Method not allowed' });
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('the demo assembly', () => {
  let demo: Demo;
  const lines: string[] = [];
  const local = (path: string) => `http://127.0.0.1:${demo.port}${path}`;
  const origin = () => new URL(demo.url).origin;

  beforeAll(async () => {
    const sink = new PassThrough();
    sink.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
    demo = await startDemo({
      port: 0,
      host: '127.0.0.1',
      logDestination: sink,
      // A developer's shell may hold real settings; the demo must replace every one of them
      // (any of these kept would fail start-up or send the demo's traffic elsewhere).
      env: {
        GATHER_API_KEY_FILE: '/nonexistent/gather_api_key',
        GATHER_BASE_URL: 'http://127.0.0.1:9/qsi/gather',
        SESSION_SECRET: 'short',
        SESSION_SECRET_FILE: '/nonexistent/session_secret',
        OIDC_ISSUER_URL: 'http://127.0.0.1:9/',
        PUBLIC_URL: 'https://bff.example.com',
        LOG_LEVEL: 'info',
      },
    });
  });
  afterAll(() => demo?.close());

  async function signIn(): Promise<string> {
    const res = await fetch(local('/auth/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf': '1', origin: origin() },
      body: JSON.stringify({ username: demo.username, password: demo.password }),
    });
    expect(res.status).toBe(200);
    const [cookie] = res.headers.getSetCookie();
    expect(cookie).toMatch(/^gather_session=[^;]+;/);
    return (cookie as string).split(';')[0] as string;
  }

  const questions = (cookie: string, headers: Record<string, string> = { 'x-csrf': '1' }) =>
    fetch(local('/api/gather/questions'), { headers: { cookie, ...headers } });

  it('prints where to go and how to sign in, on the real port, and never a key', () => {
    expect(demo.port).toBeGreaterThan(0);
    expect(demo.url).toBe(`http://localhost:${demo.port}/`);
    expect(demo.banner).toContain(demo.url);
    expect(demo.banner).toContain(`"${demo.username}"`);
    expect(demo.banner).toContain(`"${demo.password}"`);
    expect(demo.password.length).toBeGreaterThanOrEqual(16);
    expect(demo.banner).not.toMatch(/qapi_/);
  });

  it('serves the demo page at / with its script and styles as separate files', async () => {
    const res = await fetch(local('/'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/app.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/style.css" />');
    // Helmet's CSP would block inline code: none may exist.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);

    const js = await fetch(local('/app.js'));
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^(application|text)\/javascript/);
    expect(await js.text()).toMatch(/^import \{[^}]+\} from '\/client\/index\.js';$/m);
    const css = await fetch(local('/style.css'));
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('serves the client package to the page as ES modules compiled from its source', async () => {
    const served = new Map<string, string>();
    const queue = ['/client/index.js'];
    for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
      if (served.has(path)) continue;
      const res = await fetch(local(path));
      expect([path, res.status]).toEqual([path, 200]);
      expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      const code = await res.text();
      served.set(path, code);
      // Every module it imports is served too, the client's one dependency beside it.
      for (const [, spec] of code.matchAll(/from '((?:\.|\/client)\/[\w/-]+\.js)'/g)) {
        queue.push(new URL(spec as string, local(path)).pathname);
      }
    }
    expect([...served.keys()].sort()).toEqual([
      '/client/gather-answer.js',
      '/client/gather-client.js',
      '/client/gather-error.js',
      '/client/index.js',
      '/client/is-record.js',
      '/client/rate-limits.js',
      '/client/retry-after.js',
      '/client/sign-in.js',
      '/client/throttle-gate.js',
      ...['displaystring', 'index', 'parser', 'serializer', 'token', 'types', 'util'].map(
        (name) => `/client/vendor/structured-headers/${name}.js`,
      ),
    ]);
    const client = served.get('/client/gather-client.js') ?? '';
    expect(client).toContain('export function createGatherClient(');
    expect(client).toContain("headers['X-CSRF'] = '1';");
    // Compiled: no type annotations or type-only imports left for the browser to choke on.
    expect(client).not.toMatch(/^import type|\): Promise</m);
    for (const path of ['/client/gather-client.spec.js', '/client/gather-client.ts', '/client/']) {
      expect([path, (await fetch(local(path))).status]).toEqual([path, 404]);
    }
  });

  it('signs the demo user in and lists the simulated questions through the BFF', async () => {
    const cookie = await signIn();
    const res = await questions(cookie);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(UUID);
    expect(await res.json()).toEqual(DEMO_QUESTIONS);

    // Either loopback name is an allowed origin.
    const other = await questions(cookie, {
      'x-csrf': '1',
      origin: `http://127.0.0.1:${demo.port}`,
    });
    expect(other.status).toBe(200);
    await other.arrayBuffer();
  });

  it('answers the page with the envelope it shows on failure', async () => {
    const wrong = await fetch(local('/auth/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf': '1', origin: origin() },
      body: JSON.stringify({ username: demo.username, password: `${demo.password}x` }),
    });
    await expectEnvelope(wrong, 401, {
      code: 'INVALID_CREDENTIALS',
      message: expect.any(String) as string,
    });
    const anonymous = await fetch(local('/api/gather/questions'), { headers: { 'x-csrf': '1' } });
    await expectEnvelope(anonymous, 401, {
      code: 'UNAUTHORIZED',
      message: expect.any(String) as string,
    });
    const cookie = await signIn();
    const noCsrf = await questions(cookie, {});
    await expectEnvelope(noCsrf, 403, {
      code: 'CSRF_REQUIRED',
      message: expect.any(String) as string,
    });
  });

  it("passes Gather's 404 through and turns Gather's 401 into 502 UPSTREAM_UNAUTHORIZED", async () => {
    const cookie = await signIn();
    const missing = await fetch(local('/api/gather/questions/q_99'), {
      headers: { cookie, 'x-csrf': '1' },
    });
    await expectEnvelope(missing, 404, { code: 'NOT_FOUND', message: 'Resource not found' });
    const revoked = await fetch(local(`/api/gather${REVOKED_KEY_PATH}`), {
      headers: { cookie, 'x-csrf': '1' },
    });
    await expectEnvelope(revoked, 502, {
      code: 'UPSTREAM_UNAUTHORIZED',
      message: expect.any(String) as string,
      details: { upstreamStatus: 401, upstreamCode: 'UNAUTHORIZED' },
    });
    // The session is untouched: it was the server's key that Gather refused.
    expect((await questions(cookie)).status).toBe(200);
  });

  it('limits single-question reads tightly, so the page reaches a 429 in one burst', async () => {
    const cookie = await signIn();
    const read = () =>
      fetch(local('/api/gather/questions/q_01'), { headers: { cookie, 'x-csrf': '1' } });
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i <= DEMO_QUESTION_LIMIT.limit && !limited; i++) {
      const res = await read();
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else await res.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(DEMO_QUESTION_LIMIT.limit);
    expect(limited).toBeDefined();
    const res = limited as Response;
    const rule = `route:${DEMO_QUESTION_LIMIT.method} ${DEMO_QUESTION_LIMIT.path}`;
    expect(rateLimitState(res.headers)[rule]).toMatchObject({
      q: DEMO_QUESTION_LIMIT.limit,
      w: DEMO_QUESTION_LIMIT.windowSeconds,
      r: 0,
    });
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(DEMO_QUESTION_LIMIT.windowSeconds);
    await expectEnvelope(res, 429, {
      code: 'RATE_LIMITED',
      message: expect.any(String) as string,
      details: { retryAfterSeconds: retryAfter },
    });
    // Only that route: the question list still answers.
    expect((await questions(cookie)).status).toBe(200);
  });

  it('pauses the key when the simulator is told to throttle: the next calls get UPSTREAM_THROTTLED', async () => {
    const cookie = await signIn();
    const asked = await fetch(local(`/api/gather${THROTTLE_PATH}`), {
      headers: { cookie, 'x-csrf': '1' },
    });
    expect(asked.headers.get('retry-after')).toBe(String(THROTTLE_SECONDS));
    await expectEnvelope(asked, 429, {
      code: 'RATE_LIMIT_EXCEEDED',
      message: expect.any(String) as string,
    });
    const paused = await questions(cookie);
    const left = Number(paused.headers.get('retry-after'));
    expect(left).toBeGreaterThanOrEqual(1);
    expect(left).toBeLessThanOrEqual(THROTTLE_SECONDS);
    await expectEnvelope(paused, 429, {
      code: 'UPSTREAM_THROTTLED',
      message: expect.any(String) as string,
      details: { retryAfterSeconds: left, upstreamStatus: 429 },
    });
  });

  it('signs out server-side: the old cookie no longer works', async () => {
    const cookie = await signIn();
    const out = await fetch(local('/auth/logout'), {
      method: 'POST',
      headers: { cookie, 'x-csrf': '1', origin: origin() },
    });
    expect(out.status).toBe(200);
    expect(await out.json()).toEqual({ logoutUrl: null });
    expect((await questions(cookie)).status).toBe(401);
  });

  it('never writes the key to its logs', () => {
    const text = lines.join('');
    expect(text).toContain('Gather key loaded');
    expect(text).not.toMatch(/qapi_/);
  });
});

describe('the demo in production', () => {
  it('refuses to start with APP_ENV=production', async () => {
    const started = startDemo({ port: 0, host: '127.0.0.1', env: { APP_ENV: 'production' } });
    await expect(started).rejects.toThrow(DemoRefusedError);
    await expect(started).rejects.toThrow(/APP_ENV=production/);
  });
});
