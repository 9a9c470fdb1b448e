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
    expect(text).toContain('gather_upstream_requests_total{key="0a1b2c3d",status="200"} 1');
    expect(text).toContain('gather_upstream_requests_total{key="0a1b2c3d",status="401"} 2');
    expect(text).toContain('gather_upstream_requests_total{key="0a1b2c3d",status="403"} 1');
    expect(text).toContain('gather_upstream_requests_total{key="ffff0000",status="429"} 1');
    expect(text).toContain('gather_upstream_requests_total{key="ffff0000",status="500"} 1');
    expect(text).toContain('gather_upstream_requests_total{key="ffff0000",status="404"} 1');
    expect(text).toContain('gather_upstream_rejections_total{key="0a1b2c3d",status="401"} 2');
    expect(text).toContain('gather_upstream_rejections_total{key="0a1b2c3d",status="403"} 1');
    expect(text).toContain('gather_upstream_rejections_total{key="ffff0000",status="429"} 1');
    expect(text).not.toMatch(/gather_upstream_rejections_total\{[^}]*status="(200|404|500)"/);
  });

  it('never turns something other than a fingerprint into a key label', async () => {
    metrics.upstreamResponse(KEY, 401);
    const text = await metrics.text();
    expect(text).not.toContain(KEY);
    expect(text).toContain('gather_upstream_requests_total{key="unknown",status="401"} 1');
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

  it('labels a status outside 100–599 as other, and counts each answer once', async () => {
    metrics.upstreamResponse('0a1b2c3d', 200);
    metrics.upstreamResponse('0a1b2c3d', 200);
    metrics.upstreamResponse('0a1b2c3d', 999);
    const text = await metrics.text();
    expect(text).toContain('gather_upstream_requests_total{key="0a1b2c3d",status="200"} 2');
    expect(text).toContain('gather_upstream_requests_total{key="0a1b2c3d",status="other"} 1');
    // Only the label is checked: a process metric's value may well hold the digits 999.
    expect(text).not.toContain('status="999"');
  });

  it('starts the per-key and per-source counters at 0 when a key is loaded', async () => {
    metrics.keyLoaded('0a1b2c3d', 'GATHER_API_KEY_FILE');
    const text = await metrics.text();
    expect(text).toContain('gather_upstream_throttled_total{key="0a1b2c3d"} 0');
    for (const status of ['401', '403', '429']) {
      expect(text).toContain(
        `gather_upstream_rejections_total{key="0a1b2c3d",status="${status}"} 0`,
      );
    }
    for (const name of ['reloads', 'rotations', 'reload_failures']) {
      expect(text).toContain(`gather_key_${name}_total{source="GATHER_API_KEY_FILE"} 0`);
    }
  });

  it('counts successful reloads, and rotations among them, by source', async () => {
    metrics.keyReloaded('GATHER_API_KEY_FILE', false);
    metrics.keyReloaded('GATHER_API_KEY_FILE', true);
    metrics.keyReloaded('/run/secrets/gather', true);
    const text = await metrics.text();
    expect(text).toContain('gather_key_reloads_total{source="GATHER_API_KEY_FILE"} 2');
    expect(text).toContain('gather_key_rotations_total{source="GATHER_API_KEY_FILE"} 1');
    expect(text).toContain('gather_key_reloads_total{source="other"} 1');
    expect(text).not.toContain('/run/secrets');
  });

  it('counts quota refusals by quota, each quota present from the start', async () => {
    const before = await metrics.text();
    for (const quota of ['user-day', 'user-month', 'team-day', 'team-month']) {
      expect(before).toContain(`bff_quota_refusals_total{quota="${quota}"} 0`);
    }
    metrics.quotaRefused('team-month');
    metrics.quotaRefused('team-month');
    expect(await metrics.text()).toContain('bff_quota_refusals_total{quota="team-month"} 2');
  });

  it('reads the pause of each held key when scraped, never a non-fingerprint', async () => {
    expect(await metrics.text()).not.toMatch(/^gather_key_pause_remaining_seconds\{/m);
    let pauses: [string, number][] = [
      ['0a1b2c3d', 42.5],
      ['ffff0000', 0],
      [KEY, 10],
    ];
    metrics.readPausesFrom(() => pauses);
    let text = await metrics.text();
    expect(text).toContain('gather_key_pause_remaining_seconds{key="0a1b2c3d"} 42.5');
    expect(text).toContain('gather_key_pause_remaining_seconds{key="ffff0000"} 0');
    expect(text).not.toContain(KEY);
    // A key no longer held leaves the gauge.
    pauses = [['ffff0000', 0]];
    text = await metrics.text();
    expect(text).not.toContain('0a1b2c3d');
  });

  it('reads team quotas when scraped; a reader that fails leaves the gauge empty, not /metrics', async () => {
    let fail = false;
    metrics.readTeamQuotasFrom(() =>
      fail ? Promise.reject(new Error('Redis did not answer')) : Promise.resolve([['red', 0.95]]),
    );
    expect(await metrics.text()).toContain('bff_team_month_quota_used_ratio{team="red"} 0.95');
    fail = true;
    const text = await metrics.text();
    expect(text).toContain('# TYPE bff_team_month_quota_used_ratio gauge');
    expect(text).not.toMatch(/^bff_team_month_quota_used_ratio\{/m);
  });

  it('shows readiness once a reader is set, running the checks once per scrape', async () => {
    expect(await metrics.text()).not.toContain('bff_ready');
    let reads = 0;
    let state = {
      ready: true,
      checks: [
        ['gather-key', true],
        ['session-store', true],
      ] as [string, boolean][],
    };
    metrics.readReadinessFrom(() => {
      reads += 1;
      return Promise.resolve(state);
    });
    let text = await metrics.text();
    expect(reads).toBe(1);
    expect(text).toMatch(/^bff_ready 1$/m);
    expect(text).toContain('bff_readiness_check_passing{check="session-store"} 1');
    state = {
      ready: false,
      checks: [
        ['gather-key', true],
        ['session-store', false],
      ],
    };
    text = await metrics.text();
    expect(reads).toBe(2);
    expect(text).toMatch(/^bff_ready 0$/m);
    expect(text).toContain('bff_readiness_check_passing{check="session-store"} 0');
    expect(text).toContain('bff_readiness_check_passing{check="gather-key"} 1');
  });

  it('has no Redis gauge without Redis; 0 when the PING fails, 1 when it answers', async () => {
    expect(await metrics.text()).not.toContain('bff_redis_up');
    let up = true;
    metrics.readRedisFrom(() => (up ? Promise.resolve(true) : Promise.reject(new Error('down'))));
    expect(await metrics.text()).toMatch(/^bff_redis_up 1$/m);
    up = false;
    expect(await metrics.text()).toMatch(/^bff_redis_up 0$/m);
  });
});
