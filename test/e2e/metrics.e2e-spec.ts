import { hash } from 'bcrypt';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { fingerprint } from '../../src/config/key-format';
import { freePort } from '../../src/http/free-port';
import { TEAM_QUOTA_SERIES_MAX } from '../../src/usage/team-quota-metrics';
import { gatherError, startFakeGather, type FakeGather } from '../fakes/fake-gather';
import { configDirWith } from '../support/config-dir';
import { send, type Envelope, type RawResponse } from '../support/http';
import { spawnRedis, type SpawnedRedis } from '../support/redis';
import { signIn, writeUsersFile } from '../support/session';
import { SPA_HEADERS } from '../support/spa';
import { startTestApp, TEST_KEY, type TestApp } from '../support/start-app';
import { tempDir } from '../support/temp-dir';
import { until } from '../support/until';

/**
 * What /metrics shows of a running BFF (docs/operations.md#metrics): the gauges read at scrape
 * time follow the state they report, the refusal counters count at the refusal, and a crowd of
 * users and paths adds no series beyond the documented bounds.
 */
const PASSWORD = 'correct horse battery';

const call = (t: TestApp, cookie: string, path = '/api/gather/questions'): Promise<RawResponse> =>
  send(t.url, { path, headers: { ...SPA_HEADERS, cookie } });

/** The lines of one series (`name{labels}` or `name`) in the text, with their values. */
function series(text: string, name: string): Map<string, number> {
  const lines = text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return new Map(
    lines.map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]),
  );
}

/** How many series each metric name has (histograms: each of _bucket, _count, _sum). */
function seriesPerName(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] as string;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

let fake: FakeGather;
beforeAll(async () => {
  fake = await startFakeGather();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

describe('metrics read at scrape time, and counted at the refusal', () => {
  let redis: SpawnedRedis;
  let t: TestApp;
  let metricsUrl: string;
  const scrape = async (): Promise<string> => (await fetch(metricsUrl)).text();

  beforeAll(async () => {
    redis = await spawnRedis();
    const usersFile = await writeUsersFile([
      { username: 'ada', password: PASSWORD, name: 'Ada', email: 'ada@example.test', team: 'red' },
      { username: 'bob', password: PASSWORD, name: 'Bob', email: 'bob@example.test' },
    ]);
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    t = await startTestApp(
      {
        GATHER_BASE_URL: fake.baseUrl,
        AUTH_LOCAL_USERS_FILE: usersFile,
        REDIS_URL: redis.url,
        METRICS_PORT: String(port),
      },
      await configDirWith('quotas:\n  teams: { red: { month: 4 } }'),
    );
  }, 60_000);
  afterAll(async () => {
    await t.close();
    await redis.stop();
  });

  it('shows readiness and Redis as they are at each scrape', async () => {
    const ready = (text: string) => [
      series(text, 'bff_ready').get('bff_ready'),
      series(text, 'bff_redis_up').get('bff_redis_up'),
      series(text, 'bff_readiness_check_passing').get(
        'bff_readiness_check_passing{check="session-store"}',
      ),
      series(text, 'bff_readiness_check_passing').get(
        'bff_readiness_check_passing{check="gather-key"}',
      ),
    ];
    await until(async () => ready(await scrape())[1] === 1, 10_000);
    expect(ready(await scrape())).toEqual([1, 1, 1, 1]);
    await redis.stop();
    let text = '';
    await until(async () => ready((text = await scrape()))[1] === 0, 10_000);
    expect(ready(text)).toEqual([0, 0, 0, 1]);
    await redis.start();
    await until(async () => ready((text = await scrape())).join() === '1,1,1,1', 30_000, 200);
  }, 60_000);

  it("shows a team's monthly quota use, and counts the refusal once it is used up", async () => {
    const ada = await signIn(t, 'ada', PASSWORD);
    const used = async () =>
      series(await scrape(), 'bff_team_month_quota_used_ratio').get(
        'bff_team_month_quota_used_ratio{team="red"}',
      );
    expect(await used()).toBe(0);
    for (let i = 0; i < 3; i++) expect((await call(t, ada)).status).toBe(200);
    expect(await used()).toBe(0.75);
    expect((await call(t, ada)).status).toBe(200);
    const refused = await call(t, ada);
    expect([refused.status, refused.json<Envelope>().error.code]).toEqual([429, 'QUOTA_EXCEEDED']);
    const text = await scrape();
    expect(await used()).toBe(1);
    expect(series(text, 'bff_quota_refusals_total')).toEqual(
      new Map([
        ['bff_quota_refusals_total{quota="user-day"}', 0],
        ['bff_quota_refusals_total{quota="user-month"}', 0],
        ['bff_quota_refusals_total{quota="team-day"}', 0],
        ['bff_quota_refusals_total{quota="team-month"}', 1],
      ]),
    );
  });

  it("shows a key's pause in seconds left, and 0 once Gather's wait is over", async () => {
    const key = `gather_key_pause_remaining_seconds{key="${fingerprint(TEST_KEY)}"}`;
    const left = async () => series(await scrape(), 'gather_key_pause_remaining_seconds').get(key);
    expect(await left()).toBe(0);
    const bob = await signIn(t, 'bob', PASSWORD);
    fake.handle = (_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '2' });
      res.end(gatherError('UNAVAILABLE', 'Busy'));
    };
    expect((await call(t, bob)).status).toBe(503);
    const seconds = (await left()) as number;
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(2);
    await until(async () => (await left()) === 0, 10_000, 100);
  });
});

describe('bounded cardinality', () => {
  const USERS = 1000;
  let t: TestApp;
  let metricsUrl: string;
  const scrape = async (): Promise<string> => (await fetch(metricsUrl)).text();

  beforeAll(async () => {
    // One cheap hash for all: a thousand sign-ins, not a thousand argon2 runs.
    const passwordHash = await hash(PASSWORD, 4);
    const file = join(await tempDir('gather-users-'), 'users.yaml');
    const users = Array.from({ length: USERS }, (_, i) => ({
      username: `user-${i}`,
      passwordHash,
      name: `User ${i}`,
      email: `user-${i}@example.test`,
      team: `team-${i}`,
    }));
    await writeFile(file, stringify({ users }));
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    t = await startTestApp(
      {
        GATHER_BASE_URL: fake.baseUrl,
        AUTH_LOCAL_USERS_FILE: file,
        METRICS_PORT: String(port),
        RATE_LIMIT_LOGIN_LIMIT: String(USERS * 2),
      },
      // Every team has a monthly quota: the team gauge would grow with the teams, but is capped.
      await configDirWith('quotas:\n  team: { month: 1000000 }'),
    );
  }, 60_000);
  afterAll(() => t.close());

  /** Each of `users` signs in and calls a path of their own, twenty at a time. */
  async function crowd(users: readonly number[]): Promise<string[]> {
    const paths: string[] = [];
    for (let at = 0; at < users.length; at += 20) {
      await Promise.all(
        users.slice(at, at + 20).map(async (i) => {
          const cookie = await signIn(t, `user-${i}`, PASSWORD);
          const path = `/api/gather/items/${randomUUID()}`;
          paths.push(path);
          expect((await call(t, cookie, path)).status).toBe(200);
        }),
      );
    }
    return paths;
  }

  const teamSeries = async () => series(await scrape(), 'bff_team_month_quota_used_ratio').size;

  it(`adds no series for ${USERS} users and paths, but the team gauge's, which stops at ${TEAM_QUOTA_SERIES_MAX}`, async () => {
    // A few users first, so that every series their calls make exists before counting.
    await crowd([0, 1, 2]);
    await until(async () => (await teamSeries()) === 3, 10_000);
    const before = seriesPerName(await scrape());
    const paths = await crowd(Array.from({ length: USERS - 3 }, (_, i) => i + 3));
    await until(async () => (await teamSeries()) === TEAM_QUOTA_SERIES_MAX, 10_000);
    const text = await scrape();
    const after = seriesPerName(text);

    const grew = [...after]
      .filter(([name, count]) => count !== (before.get(name) ?? 0))
      .map(([name, count]) => [name, count - (before.get(name) ?? 0)]);
    // Node's own: a garbage-collection kind or a handle type seen for the first time.
    const ours = grew.filter(([name]) => !/^(nodejs|process)_/.test(name as string));
    expect(ours).toEqual([['bff_team_month_quota_used_ratio', TEAM_QUOTA_SERIES_MAX - 3]]);
    const node = grew.filter(([name]) => /^(nodejs|process)_/.test(name as string));
    expect(node.reduce((sum, [, n]) => sum + (n as number), 0)).toBeLessThanOrEqual(40);
    // Neither users nor paths appear, however the page is searched.
    expect(text).not.toMatch(/user-\d|items\//);
    for (const path of paths.slice(0, 50)) expect(text).not.toContain(path.slice(-36));
  }, 120_000);
});
