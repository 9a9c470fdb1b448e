import { jest } from '@jest/globals';
import {
  createGatherClient,
  type FetchLike,
  type GatherClientOptions,
  type ResponseRecord,
} from './gather-client.js';
import { GatherError } from './gather-error.js';

const BFF_ID = '4f6c1c2e-8d3b-4a57-9a51-0c1d2e3f4a5b';
const GATHER_ID = '9b8a7c6d-5e4f-4321-8abc-def012345678';
const TIMESTAMP = '2026-11-27T10:00:00.000Z';

type Answer = Response | ((init: RequestInit) => Promise<Response>);

/** A fetch that answers from a script and records what it was asked. */
function stubFetch(...answers: Answer[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch: FetchLike = (url, init) => {
    calls.push({ url, init });
    const next = answers.shift();
    if (next === undefined) return Promise.reject(new Error(`unexpected call to ${url}`));
    return typeof next === 'function' ? next(init) : Promise.resolve(next);
  };
  return { fetch, calls };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
  });
}

/** An error in the envelope, with `X-Request-Id` equal to its `meta.requestId` as the BFF sends it. */
function envelope(
  status: number,
  error: { code: string; message: string; details?: Record<string, unknown> },
  requestId = BFF_ID,
  headers: Record<string, string> = {},
): Response {
  return json(
    status,
    { error, meta: { requestId, timestamp: TIMESTAMP } },
    { 'X-Request-Id': requestId, ...headers },
  );
}

const rateLimited = (retryAfter: string) =>
  envelope(
    429,
    {
      code: 'RATE_LIMITED',
      message: 'Too many requests',
      details: { retryAfterSeconds: Number(retryAfter) },
    },
    BFF_ID,
    { 'Retry-After': retryAfter },
  );

/** A fetch answer that never comes, but fails as fetch does when the signal aborts. */
const hangUntilAborted = (init: RequestInit): Promise<Response> =>
  new Promise((_resolve, reject) => {
    const signal = init.signal;
    signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });

function client(fetch: FetchLike, options: GatherClientOptions = {}) {
  return createGatherClient({ ...options, fetch });
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('createGatherClient: what it sends', () => {
  it('sends X-CSRF, Accept and same-origin credentials on every call', async () => {
    const { fetch, calls } = stubFetch(json(200, []), json(200, { ok: true }));
    const c = client(fetch);
    await c.gather('/questions');
    await c.request('/auth/me');
    expect(calls.map((call) => call.url)).toEqual(['/api/gather/questions', '/auth/me']);
    for (const { init } of calls) {
      expect(init.method).toBe('GET');
      expect(init.credentials).toBe('same-origin');
      expect(init.headers).toEqual({ Accept: 'application/json', 'X-CSRF': '1' });
      expect(init.body).toBeUndefined();
    }
  });

  it('sends JSON with its content type, the query string, and keeps X-CSRF over caller headers', async () => {
    const { fetch, calls } = stubFetch(json(201, { id: 'q_09' }));
    const c = client(fetch, { baseUrl: '/bff/' });
    await c.gather('/questions', {
      method: 'POST',
      json: { text: 'Why us?' },
      query: { draft: true, limit: 5, skip: undefined, q: 'a b&c' },
      headers: { 'X-CSRF': '', 'X-Trace': 't' },
    });
    expect(calls).toEqual([
      {
        url: '/bff/api/gather/questions?draft=true&limit=5&q=a+b%26c',
        init: {
          method: 'POST',
          headers: {
            Accept: 'application/json',
            'X-Trace': 't',
            'Content-Type': 'application/json',
            'X-CSRF': '1',
          },
          body: '{"text":"Why us?"}',
          credentials: 'same-origin',
          signal: undefined,
        },
      },
    ]);
  });

  it('refuses a path that could leave the BFF, before sending anything', async () => {
    const { fetch, calls } = stubFetch();
    const c = client(fetch);
    for (const path of [
      'https://evil.example/x',
      '//evil.example/x',
      '/\\evil.example',
      'auth/me',
    ]) {
      await expect(c.request(path)).rejects.toThrow(TypeError);
    }
    expect(calls).toEqual([]);
  });

  it.each([
    '/%2e%2e/%2e%2e/auth/sessions/abc',
    '/..',
    '/../auth/sessions/abc',
    '/./auth',
    '/x/.',
    '/%2E%2e/auth',
    '/.%2e/auth',
    '/%2E./auth',
    '/%2e/auth',
    '/..;/auth',
    '/.;x/auth',
    '/%2e%2e;jsessionid=1/auth',
    '/x\\..\\auth',
    '/x%5c..%5Cauth',
  ])(
    'refuses %s, which fetch or a server could resolve out of its place, before sending anything',
    async (path) => {
      const { fetch, calls } = stubFetch();
      const c = client(fetch);
      await expect(c.gather(path, { method: 'DELETE' })).rejects.toThrow(/dot segments|backslash/);
      await expect(c.request(path)).rejects.toThrow(TypeError);
      expect(calls).toEqual([]);
    },
  );

  it('keeps dots that are not whole segments', async () => {
    const { fetch, calls } = stubFetch(json(200, {}), json(200, {}));
    const c = client(fetch);
    await c.gather('/files/report.v2.json');
    await c.gather('/x/...', { query: { q: '../..' } });
    expect(calls.map((call) => call.url)).toEqual([
      '/api/gather/files/report.v2.json',
      '/api/gather/x/...?q=..%2F..',
    ]);
  });

  it('refuses a gather path that does not start with "/"', async () => {
    const { fetch, calls } = stubFetch();
    await expect(client(fetch).gather('questions')).rejects.toThrow(TypeError);
    expect(calls).toEqual([]);
  });

  it.each(['..', '.'])(
    'refuses the session id %s, which would end at another route',
    async (id) => {
      const { fetch, calls } = stubFetch();
      await expect(client(fetch).endSession(id)).rejects.toThrow(TypeError);
      expect(calls).toEqual([]);
    },
  );

  it.each([
    ['%2e%2e', '/auth/sessions/%252e%252e'],
    ['a/../b', '/auth/sessions/a%2F..%2Fb'],
  ])('sends the session id %s as one encoded segment', async (id, url) => {
    const { fetch, calls } = stubFetch(new Response(null, { status: 204 }));
    await client(fetch).endSession(id);
    expect(calls.map((call) => call.url)).toEqual([url]);
  });

  it('calls the global fetch on the global object when none is given', async () => {
    const original = globalThis.fetch;
    const seen: unknown[] = [];
    globalThis.fetch = function (this: unknown, input: string | URL | Request) {
      seen.push(this, input);
      return Promise.resolve(json(200, { ok: true }));
    };
    try {
      await createGatherClient().request('/healthz');
    } finally {
      globalThis.fetch = original;
    }
    expect(seen).toEqual([globalThis, '/healthz']);
  });
});

describe('createGatherClient: answers', () => {
  it('returns parsed JSON with the status and X-Request-Id', async () => {
    const { fetch } = stubFetch(json(200, [{ id: 'q_01' }], { 'X-Request-Id': GATHER_ID }));
    const res = await client(fetch).gather<{ id: string }[]>('/questions');
    expect(res.data).toEqual([{ id: 'q_01' }]);
    expect(res.status).toBe(200);
    expect(res.requestId).toBe(GATHER_ID);
  });

  it('returns undefined for an empty body and text for a body that is not JSON', async () => {
    const { fetch } = stubFetch(
      new Response(null, { status: 204 }),
      new Response('plain', { status: 200, headers: { 'Content-Type': 'text/plain' } }),
    );
    const c = client(fetch);
    expect((await c.request('/a')).data).toBeUndefined();
    expect((await c.request('/b')).data).toBe('plain');
  });

  it('raises UNEXPECTED_RESPONSE for a success that announces JSON and is not', async () => {
    const { fetch } = stubFetch(
      new Response('{oops', {
        status: 200,
        headers: { 'Content-Type': 'application/json', 'X-Request-Id': BFF_ID },
      }),
    );
    const err = (await caught(client(fetch).request('/a'))) as GatherError;
    expect(err).toBeInstanceOf(GatherError);
    expect([err.status, err.code, err.requestId]).toEqual([200, 'UNEXPECTED_RESPONSE', BFF_ID]);
    expect(err.cause).toBeInstanceOf(SyntaxError);
  });
});

describe('createGatherClient: errors', () => {
  it("raises the BFF's envelope as a GatherError with code, status, requestId and details", async () => {
    const { fetch } = stubFetch(
      envelope(403, { code: 'ROUTE_NOT_ALLOWED', message: 'Route not allowed' }),
    );
    const err = await caught(client(fetch).gather('/admin', { method: 'DELETE' }));
    expect(err).toBeInstanceOf(GatherError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      name: 'GatherError',
      status: 403,
      code: 'ROUTE_NOT_ALLOWED',
      message: 'Route not allowed',
      requestId: BFF_ID,
      details: undefined,
      timestamp: TIMESTAMP,
      retryAfterSeconds: null,
    });
  });

  it("raises Gather's envelope passed through the same way, with Gather's request id", async () => {
    const { fetch } = stubFetch(
      envelope(404, { code: 'NOT_FOUND', message: 'Resource not found' }, GATHER_ID),
      envelope(
        502,
        {
          code: 'UPSTREAM_UNAUTHORIZED',
          message: "Gather rejected the server's API key",
          details: { upstreamStatus: 401, upstreamCode: 'UNAUTHORIZED' },
        },
        GATHER_ID,
      ),
    );
    const c = client(fetch);
    expect(await caught(c.gather('/questions/q_99'))).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
      message: 'Resource not found',
      requestId: GATHER_ID,
    });
    expect(await caught(c.gather('/questions'))).toMatchObject({
      status: 502,
      code: 'UPSTREAM_UNAUTHORIZED',
      requestId: GATHER_ID,
      details: { upstreamStatus: 401, upstreamCode: 'UNAUTHORIZED' },
    });
  });

  it('takes the request id from X-Request-Id when the envelope has none', async () => {
    const { fetch } = stubFetch(
      json(
        500,
        { error: { code: 'INTERNAL_ERROR', message: 'Internal error' }, meta: {} },
        { 'X-Request-Id': BFF_ID },
      ),
    );
    expect(await caught(client(fetch).request('/a'))).toMatchObject({
      code: 'INTERNAL_ERROR',
      requestId: BFF_ID,
      timestamp: null,
    });
  });

  it.each([
    ['an HTML error page', '<html><body>502 Bad Gateway</body></html>', 'text/html'],
    ['an empty body', '', 'text/plain'],
    ['JSON that is not the envelope', '{"message":"nope"}', 'application/json'],
    [
      'an envelope with a non-string code',
      '{"error":{"code":7,"message":"x"},"meta":{}}',
      'application/json',
    ],
  ])('raises UNEXPECTED_RESPONSE for %s, keeping the status', async (_name, body, type) => {
    const { fetch } = stubFetch(
      new Response(body, {
        status: 502,
        statusText: 'Bad Gateway',
        headers: { 'Content-Type': type },
      }),
    );
    const err = await caught(client(fetch).gather('/questions'));
    expect(err).toBeInstanceOf(GatherError);
    expect(err).toMatchObject({
      status: 502,
      code: 'UNEXPECTED_RESPONSE',
      message: 'HTTP 502 Bad Gateway without an error envelope',
      requestId: null,
      details: undefined,
    });
  });

  it('raises NETWORK_ERROR with status 0 when the BFF cannot be reached', async () => {
    const failure = new TypeError('Failed to fetch');
    const { fetch } = stubFetch(() => Promise.reject(failure));
    const err = await caught(client(fetch).me());
    expect(err).toBeInstanceOf(GatherError);
    expect(err).toMatchObject({
      status: 0,
      code: 'NETWORK_ERROR',
      requestId: null,
      cause: failure,
    });
  });

  it('reports every answer, error or not, to onResponse', async () => {
    const records: ResponseRecord[] = [];
    const { fetch } = stubFetch(
      json(200, [], { 'X-Request-Id': GATHER_ID }),
      envelope(404, { code: 'NOT_FOUND', message: 'Resource not found' }, GATHER_ID),
    );
    const c = client(fetch, { onResponse: (r) => records.push(r) });
    await c.gather('/questions');
    const err = await caught(c.gather('/questions/q_99'));
    expect(records).toEqual([
      {
        method: 'GET',
        url: '/api/gather/questions',
        status: 200,
        requestId: GATHER_ID,
        durationMs: expect.any(Number) as number,
      },
      {
        method: 'GET',
        url: '/api/gather/questions/q_99',
        status: 404,
        requestId: GATHER_ID,
        durationMs: expect.any(Number) as number,
        error: err,
      },
    ]);
    expect(records.every((r) => r.durationMs >= 0)).toBe(true);
  });
});

describe('createGatherClient: an ended session', () => {
  it('calls onUnauthorized with the 401 UNAUTHORIZED error, then rejects with it', async () => {
    const onUnauthorized = jest.fn();
    const { fetch } = stubFetch(envelope(401, { code: 'UNAUTHORIZED', message: 'Sign in' }));
    const err = await caught(client(fetch, { onUnauthorized }).gather('/questions'));
    expect(err).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(onUnauthorized).toHaveBeenCalledWith(err);
  });

  it.each([
    [401, 'INVALID_CREDENTIALS'],
    [502, 'UPSTREAM_UNAUTHORIZED'],
    [403, 'CSRF_REQUIRED'],
  ])('does not call it for %i %s', async (status, code) => {
    const onUnauthorized = jest.fn();
    const { fetch } = stubFetch(envelope(status, { code, message: 'x' }));
    expect(await caught(client(fetch, { onUnauthorized }).request('/a'))).toMatchObject({
      status,
      code,
    });
    expect(onUnauthorized).not.toHaveBeenCalled();
  });
});

describe('createGatherClient: 429 Retry-After', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('does not retry unless asked: one call, the 429 with its Retry-After', async () => {
    const { fetch, calls } = stubFetch(rateLimited('12'));
    const err = await caught(client(fetch).gather('/questions'));
    expect(err).toMatchObject({
      status: 429,
      code: 'RATE_LIMITED',
      retryAfterSeconds: 12,
      details: { retryAfterSeconds: 12 },
    });
    expect(calls).toHaveLength(1);
  });

  it('waits the whole Retry-After, then retries, when opted in', async () => {
    const { fetch, calls } = stubFetch(rateLimited('3'), json(200, ['ok']));
    const c = client(fetch, { rateLimitRetry: { maxRetries: 2, maxWaitSeconds: 5 } });
    const result = c.gather('/questions');
    await jest.advanceTimersByTimeAsync(2999);
    expect(calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    expect((await result).data).toEqual(['ok']);
    expect(calls[1]).toEqual(calls[0]);
  });

  it('stops after maxRetries and rejects with the last 429', async () => {
    const { fetch, calls } = stubFetch(rateLimited('1'), rateLimited('1'), rateLimited('1'));
    const c = client(fetch, { rateLimitRetry: { maxRetries: 2, maxWaitSeconds: 5 } });
    const result = caught(c.gather('/questions'));
    await jest.advanceTimersByTimeAsync(2000);
    expect(await result).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(calls).toHaveLength(3);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('rejects at once when Retry-After is longer than maxWaitSeconds, or absent', async () => {
    const { fetch, calls } = stubFetch(
      rateLimited('6'),
      envelope(429, { code: 'RATE_LIMITED', message: 'Too many requests' }),
    );
    const c = client(fetch, { rateLimitRetry: { maxRetries: 3, maxWaitSeconds: 5 } });
    expect(await caught(c.gather('/a'))).toMatchObject({ status: 429, retryAfterSeconds: 6 });
    expect(await caught(c.gather('/b'))).toMatchObject({ status: 429, retryAfterSeconds: null });
    expect(calls).toHaveLength(2);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('reads Retry-After as an HTTP date, and falls back to details.retryAfterSeconds', async () => {
    jest.setSystemTime(new Date('2026-11-27T10:00:00.000Z'));
    const { fetch, calls } = stubFetch(
      envelope(429, { code: 'RATE_LIMITED', message: 'Slow down' }, GATHER_ID, {
        'Retry-After': 'Fri, 27 Nov 2026 10:00:02 GMT',
      }),
      envelope(429, {
        code: 'RATE_LIMITED',
        message: 'Too many requests',
        details: { retryAfterSeconds: 1 },
      }),
      json(200, ['ok']),
    );
    const c = client(fetch, { rateLimitRetry: { maxRetries: 2, maxWaitSeconds: 5 } });
    const result = c.gather('/questions');
    await jest.advanceTimersByTimeAsync(1999);
    expect(calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(999);
    expect(calls).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1);
    expect((await result).data).toEqual(['ok']);
  });
});

describe('createGatherClient: one wait for the whole tab', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('holds every opted-in call of every client until the same moment, on one timer', async () => {
    const throttled = envelope(
      503,
      {
        code: 'UPSTREAM_THROTTLED',
        message: 'Gather asked to wait before the next call',
        details: { retryAfterSeconds: 4, upstreamStatus: 503 },
      },
      undefined,
      { 'Retry-After': '4' },
    );
    const first = stubFetch(throttled, json(200, ['a']));
    const second = stubFetch(json(200, ['b']));
    const opts = { rateLimitRetry: { maxRetries: 1, maxWaitSeconds: 10 } };
    const a = client(first.fetch, opts).gather('/a');
    await jest.advanceTimersByTimeAsync(0);
    expect(first.calls).toHaveLength(1);
    // Another client in the tab, called during the wait: held, not sent.
    const b = client(second.fetch, opts).gather('/b');
    await jest.advanceTimersByTimeAsync(3999);
    expect(jest.getTimerCount()).toBe(1);
    expect(first.calls).toHaveLength(1);
    expect(second.calls).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect((await a).data).toEqual(['a']);
    expect((await b).data).toEqual(['b']);
  });

  it('does not hold a client that did not opt in', async () => {
    const { fetch, calls } = stubFetch(json(200, ['x']));
    const held = stubFetch(rateLimited('5'), json(200, []));
    const waiting = client(held.fetch, {
      rateLimitRetry: { maxRetries: 1, maxWaitSeconds: 10 },
    }).gather('/a');
    await jest.advanceTimersByTimeAsync(0);
    expect((await client(fetch).gather('/now')).data).toEqual(['x']);
    expect(calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(5000);
    await waiting;
  });
});

describe('createGatherClient: RateLimit fields', () => {
  it('reads remaining and resetsIn per policy, Gather’s items and the BFF’s', async () => {
    const { fetch } = stubFetch(
      json(200, [], {
        'RateLimit-Policy': '"gather";q=100;w=10, "user";q=120;w=60, "user-day";q=5000;w=86400',
        RateLimit: '"gather";r=50;t=5, "user";r=117;t=42, "user-day";r=4988;t=30512',
      }),
    );
    const res = await client(fetch).gather('/q');
    expect(res.rateLimits).toEqual({
      gather: { limit: 100, windowSeconds: 10, remaining: 50, resetsIn: 5 },
      user: { limit: 120, windowSeconds: 60, remaining: 117, resetsIn: 42 },
      'user-day': { limit: 5000, windowSeconds: 86400, remaining: 4988, resetsIn: 30512 },
    });
  });

  it('is empty without the fields, and ignores a field that does not parse', async () => {
    const { fetch } = stubFetch(
      json(200, []),
      json(200, [], { 'RateLimit-Policy': '"user";q=1;w=1', RateLimit: 'not;;a list' }),
    );
    const c = client(fetch);
    expect((await c.gather('/a')).rateLimits).toEqual({});
    expect((await c.gather('/b')).rateLimits).toEqual({
      user: { limit: 1, windowSeconds: 1, remaining: null, resetsIn: null },
    });
  });
});

describe('createGatherClient: AbortSignal', () => {
  it('passes the signal to fetch and rejects with the abort reason, not a GatherError', async () => {
    const { fetch, calls } = stubFetch(hangUntilAborted);
    const controller = new AbortController();
    const result = caught(client(fetch).gather('/questions', { signal: controller.signal }));
    controller.abort();
    const err = (await result) as DOMException;
    expect(err).toBe(controller.signal.reason);
    expect(err.name).toBe('AbortError');
    expect(calls[0]?.init.signal).toBe(controller.signal);
  });

  it('does not send anything with a signal that is already aborted', async () => {
    const { fetch, calls } = stubFetch();
    const reason = new Error('page left');
    const err = await caught(client(fetch).me({ signal: AbortSignal.abort(reason) }));
    expect(err).toBe(reason);
    expect(calls).toEqual([]);
  });

  describe('while waiting out Retry-After', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('stops waiting at once and sends nothing more', async () => {
      const { fetch, calls } = stubFetch(rateLimited('30'), json(200, []));
      const c = client(fetch, { rateLimitRetry: { maxRetries: 1, maxWaitSeconds: 60 } });
      const controller = new AbortController();
      const result = caught(c.gather('/questions', { signal: controller.signal }));
      await jest.advanceTimersByTimeAsync(1000);
      expect(jest.getTimerCount()).toBe(1);
      controller.abort();
      const err = (await result) as DOMException;
      expect(err.name).toBe('AbortError');
      // The tab's one timer runs on for other callers; this call sends nothing more.
      await jest.advanceTimersByTimeAsync(30_000);
      expect(jest.getTimerCount()).toBe(0);
      expect(calls).toHaveLength(1);
    });
  });
});

describe('createGatherClient: the auth routes', () => {
  const me = {
    user: { id: 'demo', name: 'Demo User', email: 'demo@example.com', team: null },
    session: { expiresAt: TIMESTAMP },
  };
  const session = {
    id: 'h_1/2',
    createdAt: TIMESTAMP,
    lastSeenAt: TIMESTAMP,
    current: true,
    userAgent: null,
  };

  it('wraps /auth/login, /auth/me, /auth/logout and the session routes', async () => {
    const { fetch, calls } = stubFetch(
      json(200, { user: me.user }),
      json(200, me),
      json(200, { sessions: [session] }),
      new Response(null, { status: 204 }),
      json(200, { logoutUrl: null }),
      json(200, { logoutUrl: 'https://idp.example/logout' }),
    );
    const c = client(fetch);
    expect(await c.login('demo', 'secret')).toEqual({ user: me.user });
    expect(await c.me()).toEqual(me);
    expect(await c.sessions()).toEqual([session]);
    expect(await c.endSession(session.id)).toBeUndefined();
    expect(await c.logout()).toEqual({ logoutUrl: null });
    expect(await c.logoutEverywhere()).toEqual({ logoutUrl: 'https://idp.example/logout' });
    expect(calls.map(({ url, init }) => [init.method, url, init.body])).toEqual([
      ['POST', '/auth/login', '{"username":"demo","password":"secret"}'],
      ['GET', '/auth/me', undefined],
      ['GET', '/auth/sessions', undefined],
      ['DELETE', '/auth/sessions/h_1%2F2', undefined],
      ['POST', '/auth/logout', undefined],
      ['POST', '/auth/logout?everywhere=true', undefined],
    ]);
    for (const { init } of calls) expect(init.headers).toMatchObject({ 'X-CSRF': '1' });
  });

  it('raises 404 NOT_FOUND for a session that is not the caller’s', async () => {
    const { fetch } = stubFetch(envelope(404, { code: 'NOT_FOUND', message: 'Not found' }));
    expect(await caught(client(fetch).endSession('other'))).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
    });
  });

  it('passes the signal through the wrappers', async () => {
    const { fetch, calls } = stubFetch(json(200, me));
    const controller = new AbortController();
    await client(fetch).me({ signal: controller.signal });
    expect(calls[0]?.init.signal).toBe(controller.signal);
  });
});
