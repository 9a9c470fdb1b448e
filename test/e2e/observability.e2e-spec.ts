import { fingerprint } from '../../src/config/key-format';
import { Metrics } from '../../src/observability/metrics.service';
import { MetricsServer } from '../../src/observability/metrics-server';
import { Readiness } from '../../src/http/readiness';
import { startTestApp, TEST_KEY, type TestApp } from '../support/start-app';
import { freePort } from '../../src/http/free-port';
import { rawExchange, type Envelope } from '../support/http';

const PROM_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Listening TCP servers in this process, to see whether the app opened a second one. */
const listeners = (): number =>
  process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;

async function expectEnvelope(res: Response, status: number, code: string): Promise<Envelope> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  const body = (await res.json()) as Envelope;
  expect(body.error.code).toBe(code);
  expect(res.headers.get('x-request-id')).toBe(body.meta.requestId);
  return body;
}

describe('health and readiness', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(() => t.close());

  it('answers /healthz with exactly {"status":"ok"}, no cookie and no caching', async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"status":"ok"}');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('answers /readyz with 200 {"status":"ok"} when the key is loaded and every check passes', async () => {
    t.app.get(Readiness).register('test-store-up', () => Promise.resolve());
    const res = await fetch(`${t.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"status":"ok"}');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('answers /readyz with 503 SERVICE_UNAVAILABLE naming only the failing checks', async () => {
    // Names of our own: the real modules register theirs (gather-key, session-store, ...), which pass.
    const readiness = t.app.get(Readiness);
    readiness.register('test-store-down', () =>
      Promise.reject(new Error('connect ECONNREFUSED redis.internal:6379')),
    );
    readiness.register('test-store-up', () => Promise.resolve());
    const res = await fetch(`${t.url}/readyz`);
    const body = await expectEnvelope(res, 503, 'SERVICE_UNAVAILABLE');
    expect(body.error).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: 'Not ready',
      details: { failing: ['test-store-down'] },
    });
    // The error only: `meta.requestId` is a random UUID, which may contain 6379.
    expect(JSON.stringify(body.error)).not.toMatch(/redis|ECONNREFUSED|6379/);
    // Liveness is not readiness: the process itself is fine.
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });

  it('answers /readyz with 503 once shutdown has begun', async () => {
    // Nest calls this hook when shutdown begins, while the listener still serves.
    t.app.get(Readiness).beforeApplicationShutdown();
    const body = await expectEnvelope(await fetch(`${t.url}/readyz`), 503, 'SERVICE_UNAVAILABLE');
    expect(body.error.message).toBe('Shutting down');
  });

  it('runs the shutdown hook when the application closes', async () => {
    const readiness = t.app.get(Readiness);
    expect(readiness.shuttingDown).toBe(false);
    await t.app.close();
    expect(readiness.shuttingDown).toBe(true);
  });

  it('does not serve /metrics on the public port', async () => {
    await expectEnvelope(await fetch(`${t.url}/metrics`), 404, 'NOT_FOUND');
  });
});

describe('the metrics listener', () => {
  let t: TestApp;
  let metricsUrl: string;
  let before: number;
  beforeAll(async () => {
    const port = await freePort();
    before = listeners();
    t = await startTestApp({ METRICS_PORT: String(port) });
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
  });
  afterAll(() => t.close());

  it('listens on METRICS_PORT on the public host, besides the public listener', () => {
    expect(listeners() - before).toBe(2);
    const address = t.app.get(MetricsServer).address();
    expect(address?.address).toBe('127.0.0.1');
    expect(metricsUrl).toContain(`:${address?.port}/`);
  });

  it('serves every metric in Prometheus text with its content type', async () => {
    await (await fetch(`${t.url}/healthz`)).text();
    await (await fetch(`${t.url}/nope/123`)).text();
    const res = await fetch(metricsUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(PROM_CONTENT_TYPE);
    const text = await res.text();
    for (const [name, type] of [
      ['gather_upstream_requests_total', 'counter'],
      ['gather_upstream_rejections_total', 'counter'],
      ['gather_upstream_failures_total', 'counter'],
      ['gather_upstream_retries_total', 'counter'],
      ['gather_key_reload_failures_total', 'counter'],
      ['http_request_duration_seconds', 'histogram'],
      ['process_cpu_user_seconds_total', 'counter'],
      ['nodejs_heap_size_used_bytes', 'gauge'],
    ]) {
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
    }
    expect(text).toMatch(
      /^http_request_duration_seconds_count\{route="health",method="GET",status="200"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^http_request_duration_seconds_count\{route="other",method="GET",status="404"\} [1-9]/m,
    );
    expect(text).not.toContain('nope');
  });

  it('names the key only by its fingerprint, never by its value', async () => {
    const metrics = t.app.get(Metrics);
    metrics.upstreamResponse(fingerprint(TEST_KEY), 401);
    metrics.keyReloadFailed('GATHER_API_KEY');
    const text = await (await fetch(metricsUrl)).text();
    expect(text).toContain(
      `gather_upstream_rejections_total{key="${fingerprint(TEST_KEY)}",status="401"} 1`,
    );
    expect(text).not.toContain(TEST_KEY);
    expect(text).not.toContain(TEST_KEY.slice('qapi_'.length));
  });

  it('answers other paths and methods with the envelope', async () => {
    const origin = new URL(metricsUrl).origin;
    await expectEnvelope(await fetch(`${origin}/`), 404, 'NOT_FOUND');
    const res = await fetch(metricsUrl, { method: 'POST' });
    await expectEnvelope(res, 405, 'METHOD_NOT_ALLOWED');
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });

  it.each([
    ['an unmet Expect', 'GET /metrics HTTP/1.1\r\nHost: x\r\nExpect: x-magic\r\n\r\n', 417],
    ['a malformed header line', 'GET /metrics HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n', 400],
    ['CONNECT', 'CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n', 405],
  ])('answers %s in the envelope, as the public listener does', async (_case, bytes, status) => {
    const answer = await rawExchange(new URL(metricsUrl).origin, bytes);
    expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    const id = /^x-request-id: (\S+)$/im.exec(answer)?.[1];
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Envelope;
    expect(body.meta.requestId).toBe(id);
  });
});

describe('metrics turned off', () => {
  it('opens no metrics listener with METRICS_PORT=0', async () => {
    const before = listeners();
    const t = await startTestApp({ METRICS_PORT: '0' });
    try {
      expect(listeners() - before).toBe(1);
      expect(t.app.get(MetricsServer).address()).toBeUndefined();
    } finally {
      await t.close();
    }
  });

  it('closes the metrics listener on shutdown', async () => {
    const port = await freePort();
    const t = await startTestApp({ METRICS_PORT: String(port) });
    const url = `http://127.0.0.1:${port}/metrics`;
    expect((await fetch(url)).status).toBe(200);
    await t.close();
    await expect(fetch(url)).rejects.toThrow();
  });
});
