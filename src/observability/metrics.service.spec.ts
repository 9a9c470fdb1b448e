import { Metrics } from './metrics.service';

const KEY = 'qapi_aVeryRealLookingKey123456';

describe('Metrics', () => {
  let metrics: Metrics;
  beforeEach(() => {
    metrics = new Metrics();
  });

  it('counts answers per key fingerprint and labels only 401, 403 and 429 as rejections', async () => {
    metrics.upstreamResponse('0a1b2c3d', 200);
    metrics.upstreamResponse('0a1b2c3d', 401);
    metrics.upstreamResponse('0a1b2c3d', 401);
    metrics.upstreamResponse('0a1b2c3d', 403);
    metrics.upstreamResponse('ffff0000', 429);
    metrics.upstreamResponse('ffff0000', 500);
    metrics.upstreamResponse('ffff0000', 404);
    const text = await metrics.text();
    expect(text).toContain('gather_upstream_requests_total{key="0a1b2c3d"} 4');
    expect(text).toContain('gather_upstream_requests_total{key="ffff0000"} 3');
    expect(text).toContain('gather_upstream_rejections_total{key="0a1b2c3d",status="401"} 2');
    expect(text).toContain('gather_upstream_rejections_total{key="0a1b2c3d",status="403"} 1');
    expect(text).toContain('gather_upstream_rejections_total{key="ffff0000",status="429"} 1');
    expect(text).not.toMatch(/gather_upstream_rejections_total\{[^}]*status="(200|404|500)"/);
  });

  it('never turns something other than a fingerprint into a key label', async () => {
    metrics.upstreamResponse(KEY, 401);
    const text = await metrics.text();
    expect(text).not.toContain(KEY);
    expect(text).toContain('gather_upstream_requests_total{key="unknown"} 1');
    expect(text).toContain('gather_upstream_rejections_total{key="unknown",status="401"} 1');
  });

  it('counts upstream failures by kind, both kinds present from the start', async () => {
    expect(await metrics.text()).toContain('gather_upstream_failures_total{kind="timeout"} 0');
    metrics.upstreamFailure('timeout');
    metrics.upstreamFailure('unreachable');
    metrics.upstreamFailure('unreachable');
    const text = await metrics.text();
    expect(text).toContain('gather_upstream_failures_total{kind="timeout"} 1');
    expect(text).toContain('gather_upstream_failures_total{kind="unreachable"} 2');
  });

  it('counts key reload failures by setting name and hides paths and references', async () => {
    metrics.keyReloadFailed('GATHER_API_KEY_FILE');
    metrics.keyReloadFailed('gather.teamKeys.team-a');
    metrics.keyReloadFailed('/run/secrets/gather');
    metrics.keyReloadFailed('vault:secret/gather#api_key');
    const text = await metrics.text();
    expect(text).toContain('gather_key_reload_failures_total{source="GATHER_API_KEY_FILE"} 1');
    expect(text).toContain('gather_key_reload_failures_total{source="gather.teamKeys.team-a"} 1');
    expect(text).toContain('gather_key_reload_failures_total{source="other"} 2');
    expect(text).not.toContain('/run/secrets');
    expect(text).not.toContain('vault:');
  });

  it('observes HTTP requests by route family, method and status, never the raw path', async () => {
    metrics.httpRequest('/api/gather/users/u-123?email=a@b.c', 'get')(200);
    metrics.httpRequest('/auth/login', 'POST')(401);
    metrics.httpRequest('/wp-admin', 'PROPFIND')(404);
    const text = await metrics.text();
    expect(text).toContain(
      'http_request_duration_seconds_count{route="api",method="GET",status="200"} 1',
    );
    expect(text).toContain(
      'http_request_duration_seconds_count{route="auth",method="POST",status="401"} 1',
    );
    expect(text).toContain(
      'http_request_duration_seconds_count{route="other",method="other",status="404"} 1',
    );
    expect(text).not.toMatch(/u-123|a@b\.c|wp-admin/);
  });

  it('keeps each instance on its own registry, with the default process metrics', async () => {
    const other = new Metrics();
    metrics.upstreamFailure('timeout');
    expect(await other.text()).toContain('gather_upstream_failures_total{kind="timeout"} 0');
    expect(await metrics.text()).toMatch(/^process_cpu_user_seconds_total /m);
    expect(metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });
});
