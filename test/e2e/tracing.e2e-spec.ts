import { startFakeGather, type FakeGather, type RecordedRequest } from '../fakes/fake-gather';
import { startFakeOtlp, type ReceivedSpan } from '../fakes/fake-otlp';
import { send, type RawResponse } from '../support/http';
import { findSecret, secretForms } from '../support/secret-forms';
import { signIn, writeUsersFile } from '../support/session';
import { SPA_HEADERS } from '../support/spa';
import { startTestApp, TEST_KEY, type TestApp } from '../support/start-app';
import { until } from '../support/until';

/** docs/contract.md, "Tracing" and "Headers to Gather". */
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const CONTINUED = `00-${TRACE}-${SPAN}-01`;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;
const PASSWORD = 'correct horse battery';

/** The traceparent Gather received, in its fields. */
function traceparentAt(req: RecordedRequest | undefined) {
  const value = req?.headers.traceparent;
  const match = typeof value === 'string' ? TRACEPARENT.exec(value) : null;
  if (!match) throw new Error(`Gather got no valid traceparent: ${String(value)}`);
  return { value, traceId: match[1] as string, parentId: match[2] as string, flags: match[3] };
}

/** The JSON log line of our request `requestId`'s answer, once written (after the answer). */
async function logLine(t: TestApp, requestId: string): Promise<{ traceId?: string }> {
  const find = (): string | undefined =>
    t
      .logs()
      .split('\n')
      .find((l) => l.includes(`"id":"${requestId}"`) && l.includes('request completed'));
  await until(() => find() !== undefined);
  return JSON.parse(find() as string) as { traceId?: string };
}

/** The BFF's request id as Gather received it (the browser sees Gather's own id instead). */
const ourId = (req: RecordedRequest | undefined): string => req?.headers['x-request-id'] as string;

let usersFile: string;
let fake: FakeGather;
beforeAll(async () => {
  fake = await startFakeGather();
  usersFile = await writeUsersFile([
    { username: 'ada', password: PASSWORD, name: 'Ada', email: 'ada@example.com' },
  ]);
});
afterAll(() => fake.close());

describe('W3C trace context on the proxied path', () => {
  let t: TestApp;
  let cookie: string;
  beforeAll(async () => {
    t = await startTestApp({ GATHER_BASE_URL: fake.baseUrl, AUTH_LOCAL_USERS_FILE: usersFile });
    cookie = await signIn(t, 'ada', PASSWORD);
  });
  afterAll(() => t.close());
  beforeEach(() => fake.reset());

  const call = (headers: Record<string, string> = {}): Promise<RawResponse> =>
    send(t.url, {
      path: '/api/gather/questions?limit=1',
      headers: { ...SPA_HEADERS, cookie, ...headers },
    });

  it('continues a valid traceparent: same trace id, a new parent id, the sampled flag kept', async () => {
    expect((await call({ traceparent: CONTINUED })).status).toBe(200);
    const sent = traceparentAt(fake.requests[0]);
    expect(sent.traceId).toBe(TRACE);
    expect(sent.parentId).not.toBe(SPAN);
    expect(sent.flags).toBe('01');

    await call({ traceparent: `00-${TRACE}-${SPAN}-00` });
    expect(traceparentAt(fake.requests[1]).flags).toBe('00');
  });

  it('starts a new, sampled trace when the browser sends none, one per request', async () => {
    await call();
    await call();
    const [first, second] = [traceparentAt(fake.requests[0]), traceparentAt(fake.requests[1])];
    expect(first.flags).toBe('01');
    expect(second.traceId).not.toBe(first.traceId);
  });

  it.each([
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['an all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['a short trace id', `00-${TRACE.slice(2)}-${SPAN}-01`],
    ['version 00 with a fifth field', `${CONTINUED}-x`],
  ])(
    'never forwards a traceparent with %s: a new trace instead, without tracestate',
    async (_w, bad) => {
      const res = await call({ traceparent: bad, tracestate: 'vendor=opaque' });
      expect(res.status).toBe(200);
      const sent = traceparentAt(fake.requests[0]);
      expect(sent.value).not.toBe(bad);
      expect(sent.traceId).not.toBe(TRACE);
      expect(sent.traceId).not.toBe('0'.repeat(32));
      expect(fake.requests[0]?.headers.tracestate).toBeUndefined();
      expect(
        fake.requests[0]?.rawHeaders.filter((h) => h.toLowerCase() === 'traceparent'),
      ).toHaveLength(1);
    },
  );

  it('forwards tracestate only with the traceparent it continues, and baggage never', async () => {
    await call({ traceparent: CONTINUED, tracestate: 'vendor=opaque,other=1', baggage: 'u=ada' });
    await call({ tracestate: 'vendor=opaque', baggage: 'u=ada' });
    expect(fake.requests[0]?.headers.tracestate).toBe('vendor=opaque,other=1');
    expect(fake.requests[1]?.headers.tracestate).toBeUndefined();
    for (const req of fake.requests) expect(req.headers.baggage).toBeUndefined();
  });

  it("writes the trace id on the request's log line, refused requests included", async () => {
    await call({ traceparent: CONTINUED });
    expect((await logLine(t, ourId(fake.requests[0]))).traceId).toBe(TRACE);

    await call();
    const sent = traceparentAt(fake.requests[1]);
    expect((await logLine(t, ourId(fake.requests[1]))).traceId).toBe(sent.traceId);

    const refused = await send(t.url, {
      path: '/api/gather/questions',
      headers: { 'x-csrf': '1', traceparent: CONTINUED },
    });
    expect(refused.status).toBe(401);
    expect((await logLine(t, refused.headers['x-request-id'] as string)).traceId).toBe(TRACE);
  });

  it("writes the browser's trace id on a Nest route's log line too", async () => {
    const res = await send(t.url, {
      path: '/auth/me',
      headers: { cookie, traceparent: CONTINUED },
    });
    expect(res.status).toBe(200);
    expect((await logLine(t, res.headers['x-request-id'] as string)).traceId).toBe(TRACE);
    const other = await send(t.url, { path: '/auth/me', headers: { cookie } });
    const otherLine = await logLine(t, other.headers['x-request-id'] as string);
    expect(otherLine.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(otherLine.traceId).not.toBe(TRACE);
  });
});

describe('OTLP export', () => {
  /**
   * Starts an exporting app, runs `use`, closes the app (which flushes its spans). With
   * `tracesPath`, the collector takes spans there only and the app is told so through
   * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, beside the usual OTEL_EXPORTER_OTLP_ENDPOINT.
   */
  async function withExportingApp(
    env: Record<string, string>,
    use: (t: TestApp, cookie: string) => Promise<void>,
    tracesPath?: string,
  ): Promise<{ spans: ReceivedSpan[]; bodies: string[]; cookie: string }> {
    const otlp = await startFakeOtlp(tracesPath);
    try {
      const t = await startTestApp({
        GATHER_BASE_URL: fake.baseUrl,
        AUTH_LOCAL_USERS_FILE: usersFile,
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
        ...(tracesPath && { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otlp.endpoint}${tracesPath}` }),
        ...env,
      });
      let cookie = '';
      try {
        cookie = await signIn(t, 'ada', PASSWORD);
        await use(t, cookie);
      } finally {
        await t.close();
      }
      return { spans: otlp.spans(), bodies: [...otlp.bodies], cookie };
    } finally {
      await otlp.close();
    }
  }

  beforeEach(() => fake.reset());

  it('exports a server span and a client span of the trace Gather saw, when the app closes', async () => {
    const { spans, bodies, cookie } = await withExportingApp({}, async (t, cookie) => {
      const res = await send(t.url, {
        path: '/api/gather/questions?limit=1',
        headers: {
          ...SPA_HEADERS,
          cookie,
          traceparent: CONTINUED,
          'x-api-key': 'qapi_browserKEY0123456789abc',
          authorization: 'Bearer browser-token',
        },
      });
      expect(res.status).toBe(200);
    });
    const sent = traceparentAt(fake.requests[0]);
    const ofTrace = spans.filter((s) => s.traceId === TRACE);
    const server = ofTrace.find((s) => s.kind === 2);
    const client = ofTrace.find((s) => s.kind === 3);
    expect(ofTrace).toHaveLength(2);
    expect(server).toMatchObject({
      parentSpanId: SPAN,
      name: 'GET /api/gather/*',
      attributes: {
        'http.request.method': 'GET',
        'http.route': '/api/gather/*',
        'url.path': '/api/gather/questions',
        'http.response.status_code': 200,
      },
      resource: expect.objectContaining({ 'service.name': 'gather-bff' }) as unknown,
    });
    expect(client).toMatchObject({
      spanId: sent.parentId,
      parentSpanId: server?.spanId,
      attributes: {
        'http.request.method': 'GET',
        'url.full': `${fake.baseUrl}/questions`,
        'http.response.status_code': 200,
      },
    });

    // Neither the server's key, the browser's credentials nor the session reach the collector.
    const all = bodies.join('\n');
    expect(findSecret(all, secretForms(TEST_KEY))).toEqual([]);
    const cookieValue = cookie.slice(cookie.indexOf('=') + 1);
    const sessionId = /^s:([^.]+)\./.exec(decodeURIComponent(cookieValue))?.[1] as string;
    expect(sessionId.length).toBeGreaterThan(8);
    for (const secret of [cookieValue, sessionId, 'qapi_browserKEY', 'browser-token']) {
      expect(all).not.toContain(secret);
    }
  });

  it('sends spans to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, ahead of the base endpoint', async () => {
    const { spans } = await withExportingApp(
      {},
      async (t, cookie) => {
        const headers = { ...SPA_HEADERS, cookie, traceparent: CONTINUED };
        expect((await send(t.url, { path: '/api/gather/a', headers })).status).toBe(200);
      },
      '/collector/spans',
    );
    const ofTrace = spans.filter((s) => s.traceId === TRACE);
    expect(ofTrace.map((s) => s.kind).sort()).toEqual([2, 3]);
  });

  it('names the service from OTEL_SERVICE_NAME and exports nothing a sampler refuses', async () => {
    const { spans } = await withExportingApp(
      { OTEL_SERVICE_NAME: 'bff-eu', OTEL_TRACES_SAMPLER: 'parentbased_always_off' },
      async (t, cookie) => {
        const headers = { ...SPA_HEADERS, cookie };
        await send(t.url, { path: '/api/gather/a', headers });
        await send(t.url, {
          path: '/api/gather/b',
          headers: { ...headers, traceparent: CONTINUED },
        });
      },
    );
    const unsampled = traceparentAt(fake.requests[0]);
    expect(unsampled.flags).toBe('00');
    expect(traceparentAt(fake.requests[1])).toMatchObject({ traceId: TRACE, flags: '01' });
    expect(spans.filter((s) => s.traceId === unsampled.traceId)).toEqual([]);
    const sampled = spans.filter((s) => s.traceId === TRACE);
    expect(sampled.map((s) => s.kind).sort()).toEqual([2, 3]);
    expect(sampled[0]?.resource['service.name']).toBe('bff-eu');
  });
});
