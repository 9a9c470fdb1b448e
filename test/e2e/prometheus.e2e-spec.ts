import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { fingerprint } from '../../src/config/key-format';
import { freePort } from '../../src/http/free-port';
import { isRecord } from '../../src/http/is-record';
import {
  gatherError,
  startFakeGather,
  type FakeGather,
  type FakeHandler,
} from '../fakes/fake-gather';
import { configDirWith } from '../support/config-dir';
import { send, type Envelope, type RawResponse } from '../support/http';
import {
  describeWithPrometheus,
  startPrometheus,
  type RunningPrometheus,
  type Sample,
} from '../support/prometheus';
import { spawnRedis, type SpawnedRedis } from '../support/redis';
import { login, signIn, writeUsersFile } from '../support/session';
import { SPA_HEADERS } from '../support/spa';
import { startTestApp, TEST_KEY, type TestApp } from '../support/start-app';
import { tempDir } from '../support/temp-dir';
import { until } from '../support/until';

/**
 * The monitoring kit against the real thing (docs/operations.md, "Testing the rules"): Debian's
 * prometheus scrapes a running BFF every second and evaluates the alert rules, while the BFF
 * takes successes, Gather's 4xx and 5xx, a 401, a pause, a quota refusal, slow calls and a
 * refused sign-in. Then every dashboard query must return series and every alert expression
 * evaluate: a metric renamed in the code fails here.
 */
const ROOT = join(__dirname, '..', '..');
const KIT = join(ROOT, 'deploy/observability');
const JOB = 'gather-bff';
const PASSWORD = 'correct horse battery';
const BLUE_KEY = 'qapi_blueTeamKey0123456789abc';
/** Polls of Prometheus: a scrape and a rule evaluation each second, on a busy machine. */
const SETTLE_MS = 60_000;
/** A test that polls until Prometheus has settled: its own deadline comes first. */
const POLL_TEST_MS = SETTLE_MS + 10_000;

const dashboard: unknown = JSON.parse(readFileSync(join(KIT, 'grafana-dashboard.json'), 'utf8'));
const rules: unknown = parse(readFileSync(join(KIT, 'prometheus-rules.yaml'), 'utf8'));
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const field = (v: unknown, name: string): unknown => (isRecord(v) ? v[name] : undefined);
const text = (v: unknown, name: string): string => {
  const value = field(v, name);
  return typeof value === 'string' ? value : '';
};

/** Every panel query as Grafana would send it here: `$job` this job, rates over a minute. */
const panelQueries = list(field(dashboard, 'panels')).flatMap((panel) =>
  list(field(panel, 'targets')).map((target) => ({
    panel: String(field(panel, 'title')),
    expr: String(field(target, 'expr'))
      .replaceAll('$job', JOB)
      .replaceAll('$__rate_interval', '1m'),
  })),
);
const alertRules = list(field(list(field(rules, 'groups'))[0], 'rules')).map((rule) => ({
  alert: String(field(rule, 'alert')),
  expr: String(field(rule, 'expr')),
}));

const call = (t: TestApp, cookie: string, path = '/api/gather/questions'): Promise<RawResponse> =>
  send(t.url, { path, headers: { ...SPA_HEADERS, cookie } });

/** Gather answers the next call with `status` (and `headers`), then as before. */
function answerOnce(fake: FakeGather, status: number, headers: Record<string, string> = {}): void {
  const before = fake.handle;
  fake.handle = (_req, res) => {
    fake.handle = before;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(gatherError(status === 429 ? 'RATE_LIMITED' : 'ERROR', 'As asked'));
  };
}

const codeOf = (res: RawResponse): string => res.json<Envelope>().error.code;

describeWithPrometheus('a real Prometheus scraping the BFF', () => {
  let redis: SpawnedRedis;
  let fake: FakeGather;
  let t: TestApp;
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    redis = await spawnRedis();
    fake = await startFakeGather();
    const usersFile = await writeUsersFile([
      { username: 'ada', password: PASSWORD, name: 'Ada', email: 'ada@example.test', team: 'red' },
      { username: 'bob', password: PASSWORD, name: 'Bob', email: 'bob@example.test' },
      { username: 'cy', password: PASSWORD, name: 'Cy', email: 'cy@example.test', team: 'blue' },
    ]);
    const keyFile = join(await tempDir('gather-key-'), 'key');
    await writeFile(keyFile, TEST_KEY);
    const configDir = await configDirWith(
      [
        'quotas:',
        '  teams: { red: { month: 3 } }',
        'gather:',
        '  teamKeys:',
        '    blue: { env: BLUE_KEY }',
      ].join('\n'),
    );
    const metricsPort = await freePort();
    t = await startTestApp(
      {
        GATHER_BASE_URL: fake.baseUrl,
        AUTH_LOCAL_USERS_FILE: usersFile,
        REDIS_URL: redis.url,
        METRICS_PORT: String(metricsPort),
        GATHER_API_KEY: undefined,
        GATHER_API_KEY_FILE: keyFile,
        BLUE_KEY,
      },
      configDir,
    );
    prometheus = await startPrometheus({
      job: JOB,
      targets: [`127.0.0.1:${metricsPort}`],
      ruleFiles: [join(KIT, 'prometheus-rules.yaml')],
    });
    // Every counter's first sample is taken before the calls, so increase() sees them rise.
    await until(async () => (await prometheus.query('bff_ready')).length === 1, SETTLE_MS, 200);
    await driveTraffic();
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await t?.close();
    await fake?.close();
    await redis?.stop();
  });

  /** Two rounds: the second raises what the first created, as rate() needs two samples. */
  async function driveTraffic(): Promise<void> {
    const bob = await signIn(t, 'bob', PASSWORD);
    const ada = await signIn(t, 'ada', PASSWORD);
    const cy = await signIn(t, 'cy', PASSWORD);
    expect((await login(t, 'bob', 'not the password')).status).toBe(401);

    for (let i = 0; i < 3; i++) expect((await call(t, bob)).status).toBe(200);
    answerOnce(fake, 404);
    expect((await call(t, bob, '/api/gather/questions/q_404')).status).toBe(404);
    answerOnce(fake, 500);
    expect((await call(t, bob)).status).toBe(500);
    // The key file still holds the refused key: reloaded, unchanged, UPSTREAM_UNAUTHORIZED.
    answerOnce(fake, 401);
    const refused = await call(t, bob);
    expect([refused.status, codeOf(refused)]).toEqual([502, 'UPSTREAM_UNAUTHORIZED']);
    // Team red's month: 3 calls, then QUOTA_EXCEEDED.
    for (let i = 0; i < 3; i++) expect((await call(t, ada)).status).toBe(200);
    const over = await call(t, ada);
    expect([over.status, codeOf(over)]).toEqual([429, 'QUOTA_EXCEEDED']);
    // Team blue's key: Gather asks for five minutes' rest.
    answerOnce(fake, 429, { 'retry-after': '300' });
    expect((await call(t, cy)).status).toBe(429);
    const throttled = await call(t, cy);
    expect([throttled.status, codeOf(throttled)]).toEqual([429, 'UPSTREAM_THROTTLED']);
    const out = await fetch(`${t.url}/auth/logout`, {
      method: 'POST',
      headers: { ...SPA_HEADERS, cookie: ada },
    });
    expect(out.status).toBe(200);

    await until(
      async () =>
        (await prometheus.query('http_request_duration_seconds_count{route="api",status="500"}'))
          .length === 1,
      SETTLE_MS,
      200,
    );
    answerOnce(fake, 500);
    expect((await call(t, bob)).status).toBe(500);
    answerOnce(fake, 401);
    expect((await call(t, bob)).status).toBe(502);
    // Three calls Gather takes 3 s to answer: the p99 of the proxied calls passes 2.5 s.
    const slow: FakeHandler = (req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ url: req.url }));
      }, 3000);
    };
    fake.handle = slow;
    const answers = await Promise.all([call(t, bob), call(t, bob), call(t, bob)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    fake.reset();
  }

  it(
    'loads every alert rule and evaluates each without error',
    async () => {
      let loaded: unknown[] = [];
      await until(
        async () => {
          const answer = await prometheus.api('rules');
          loaded = list(field(list(field(answer.data, 'groups'))[0], 'rules'));
          return loaded.length > 0 && loaded.every((r) => field(r, 'health') === 'ok');
        },
        SETTLE_MS,
        200,
      ).catch(() => undefined);
      expect(
        loaded.map((r) => [field(r, 'name'), field(r, 'health'), field(r, 'lastError') ?? '']),
      ).toEqual(alertRules.map((r) => [r.alert, 'ok', '']));
    },
    POLL_TEST_MS,
  );

  it('evaluates every alert expression through the query API', async () => {
    for (const { alert, expr } of alertRules) {
      const answer = await prometheus.api('query', { query: expr });
      expect([alert, answer.status, answer.error]).toEqual([alert, 'success', undefined]);
    }
  });

  it(
    'answers every dashboard query with at least one series',
    async () => {
      expect(panelQueries.length).toBeGreaterThan(20);
      let empty: string[] = [];
      await until(
        async () => {
          empty = [];
          for (const { panel, expr } of panelQueries) {
            if ((await prometheus.query(expr)).length === 0) empty.push(`${panel}: ${expr}`);
          }
          return empty.length === 0;
        },
        SETTLE_MS,
        500,
      ).catch(() => undefined);
      expect(empty).toEqual([]);
    },
    POLL_TEST_MS,
  );

  it(
    'raises the alerts those calls should raise, on the right key and team, and no other',
    async () => {
      const expected = [
        ['BffHighErrorRatio', ''],
        ['BffSlowProxiedCalls', ''],
        ['BffTeamMonthQuotaNearlyUsed', 'red'],
        ['GatherKeyPausedLong', fingerprint(BLUE_KEY)],
        ['GatherKeyRejected', fingerprint(TEST_KEY)],
      ];
      let active: string[][] = [];
      await until(
        async () => {
          const answer = await prometheus.api('alerts');
          active = list(field(answer.data, 'alerts'))
            .map((a) => {
              const labels = field(a, 'labels');
              return [text(labels, 'alertname'), text(labels, 'key') || text(labels, 'team')];
            })
            .sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
          return JSON.stringify(active) === JSON.stringify(expected);
        },
        SETTLE_MS,
        200,
      ).catch(() => undefined);
      // Ready and Redis up: BffNotReady and BffRedisUnreachable stay quiet.
      expect(active).toEqual(expected);
    },
    POLL_TEST_MS,
  );

  it('sees the state gauges as the BFF is: ready, Redis up, only key fingerprints as keys', async () => {
    const value = (samples: Sample[]): string[] => samples.map((s) => s.value[1]);
    expect(value(await prometheus.query('bff_ready'))).toEqual(['1']);
    expect(value(await prometheus.query('bff_redis_up'))).toEqual(['1']);
    const keys = await prometheus.api('label/key/values');
    expect(keys.data).toEqual([fingerprint(BLUE_KEY), fingerprint(TEST_KEY)].sort());
    const teams = await prometheus.api('label/team/values');
    expect(teams.data).toEqual(['red']);
  });
});
