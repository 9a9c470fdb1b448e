import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gatherError, startFakeGather, type FakeGather } from '../fakes/fake-gather';
import { fingerprint } from '../../src/config/key-format';
import { configDirWith } from '../support/config-dir';
import { tempDir } from '../support/temp-dir';
import { freePort } from '../../src/http/free-port';
import { send, type Envelope, type RawRequest, type RawResponse } from '../support/http';
import { ADA, startSignedInApp, type SignedInApp } from '../support/proxy-harness';
import { signIn, writeUsersFile, type TestUser } from '../support/session';
import { SPA_HEADERS } from '../support/spa';
import { startTestApp, TEST_KEY, type TestApp } from '../support/start-app';

const PASSWORD = ADA.password;
const BOB: TestUser = {
  ...ADA,
  username: 'bob',
  name: 'Bob',
  email: 'bob@example.com',
  team: 'team-b',
};
const newKey = (): string => `qapi_${randomBytes(18).toString('base64url')}`;

/** A fake Gather that accepts exactly one key and answers 401 to any other. */
function acceptOnly(fake: FakeGather, key: () => string): void {
  fake.handle = (req, res) => {
    if (req.headers['x-api-key'] !== key()) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(gatherError('UNAUTHORIZED', 'Invalid API key'));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, body: req.body.toString('utf8') }));
  };
}

/** The security-event lines of `event` the app wrote so far, parsed. */
function auditLines(t: TestApp, event: string): Record<string, unknown>[] {
  return t
    .logs()
    .split('\n')
    .filter((l) => l.includes('"audit":true') && l.includes(`"event":"${event}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('keys on the wire', () => {
  let fake: FakeGather;
  let usersFile: string;
  beforeAll(async () => {
    fake = await startFakeGather();
    usersFile = await writeUsersFile([ADA, BOB]);
  });
  beforeEach(() => fake.reset());
  afterAll(() => fake.close());

  const call = (t: TestApp, cookie: string, req: RawRequest): Promise<RawResponse> =>
    send(t.url, {
      ...req,
      headers: { ...SPA_HEADERS, cookie, ...req.headers },
    });

  describe('rotation: Gather refuses the held key', () => {
    let app: SignedInApp;
    let t: TestApp;
    let keyFile: string;
    let cookie: string;
    let accepted: string;
    let metricsUrl: string;
    const oldKey = newKey();

    beforeAll(async () => {
      keyFile = join(await tempDir('gather-key-'), 'key');
      await writeFile(keyFile, `${oldKey}\n`);
      const metricsPort = await freePort();
      metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
      app = await startSignedInApp(fake.baseUrl, {
        env: {
          METRICS_PORT: String(metricsPort),
          GATHER_API_KEY: undefined,
          GATHER_API_KEY_FILE: keyFile,
        },
      });
      ({ t, cookie } = app);
    });
    afterAll(() => app.close());

    it('reloads the key once and replays the request, body included, when the key changed', async () => {
      accepted = newKey();
      await writeFile(keyFile, accepted);
      acceptOnly(fake, () => accepted);
      const body = JSON.stringify({ answer: 42 });
      const res = await call(t, cookie, {
        method: 'POST',
        path: '/api/gather/answers?x=1',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ ok: true, body });
      expect(fake.requests.map((r) => r.headers['x-api-key'])).toEqual([oldKey, accepted]);
      expect(fake.requests.map((r) => r.url)).toEqual([
        '/qsi/gather/answers?x=1',
        '/qsi/gather/answers?x=1',
      ]);
      expect(fake.requests[1]!.body.toString('utf8')).toBe(body);
      const rotated = auditLines(t, 'key.rotated');
      expect(rotated).toHaveLength(1);
      expect(rotated[0]).toMatchObject({
        level: 30,
        key: fingerprint(accepted),
        previousKey: fingerprint(oldKey),
        source: 'GATHER_API_KEY_FILE',
        // The request whose 401 led to the reload.
        requestId: fake.requests[0]!.headers['x-request-id'],
        userId: 'ada',
      });
    });

    it('counts requests and refusals per key fingerprint, never naming the key', async () => {
      const text = await (await fetch(metricsUrl)).text();
      expect(text).toContain(
        `gather_upstream_rejections_total{key="${fingerprint(oldKey)}",status="401"} 1`,
      );
      expect(text).toContain(
        `gather_upstream_requests_total{key="${fingerprint(oldKey)}",status="401"} 1`,
      );
      expect(text).toContain(
        `gather_upstream_requests_total{key="${fingerprint(accepted)}",status="200"} 1`,
      );
      // The reload that found the new key, and the key's counters from its first read.
      expect(text).toContain('gather_key_rotations_total{source="GATHER_API_KEY_FILE"} 1');
      expect(text).toContain(
        `gather_upstream_rejections_total{key="${fingerprint(accepted)}",status="401"} 0`,
      );
      expect(text).not.toContain(oldKey);
      expect(text).not.toContain(accepted);
    });

    it('uses the new key from then on', async () => {
      acceptOnly(fake, () => accepted);
      const res = await call(t, cookie, { path: '/api/gather/questions' });
      expect(res.status).toBe(200);
      expect(fake.requests).toHaveLength(1);
    });

    it('answers 502 UPSTREAM_UNAUTHORIZED without a retry when the reloaded key is the same', async () => {
      acceptOnly(fake, () => 'qapi_nobodyHasThisKey0000');
      const res = await call(t, cookie, { path: '/api/gather/questions' });
      expect(res.status).toBe(502);
      const env = res.json<Envelope>();
      expect(env.error.code).toBe('UPSTREAM_UNAUTHORIZED');
      expect(fake.requests).toHaveLength(1);
      const rejected = auditLines(t, 'key.rejected');
      expect(rejected).toHaveLength(1);
      expect(rejected[0]).toMatchObject({
        key: fingerprint(accepted),
        userId: 'ada',
        requestId: fake.requests[0]!.headers['x-request-id'],
        gatherRequestId: env.meta.requestId,
      });
      expect(JSON.stringify(rejected)).not.toContain(accepted);
    });

    it('retries each concurrent refused request once with the reloaded key', async () => {
      const next = newKey();
      await writeFile(keyFile, next);
      acceptOnly(fake, () => next);
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => call(t, cookie, { path: '/api/gather/questions' })),
      );
      expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
      const sent = fake.requests.map((r) => r.headers['x-api-key']);
      // Each request reaches Gather with the new key once; those that went out before the reload
      // finished were refused first, and none was sent more than twice.
      const refused = sent.filter((k) => k !== next).length;
      expect(sent.filter((k) => k === next)).toHaveLength(10);
      expect(refused).toBeGreaterThanOrEqual(1);
      expect(sent).toHaveLength(10 + refused);
    });
  });

  describe('read-only key', () => {
    let app: SignedInApp;
    let t: TestApp;
    let cookie: string;
    const readonlyKey = newKey();
    beforeAll(async () => {
      app = await startSignedInApp(fake.baseUrl, {
        env: { GATHER_READONLY_API_KEY: readonlyKey },
        users: [BOB],
      });
      ({ t, cookie } = app);
    });
    afterAll(() => app.close());

    it.each([
      ['GET', 'readonly'],
      ['HEAD', 'readonly'],
      ['POST', 'main'],
      ['PUT', 'main'],
      ['PATCH', 'main'],
      ['DELETE', 'main'],
    ])('%s carries the %s key', async (method, which) => {
      const res = await call(t, cookie, { method, path: '/api/gather/questions/1' });
      expect(res.status).toBe(200);
      expect(fake.requests[0]!.headers['x-api-key']).toBe(
        which === 'readonly' ? readonlyKey : TEST_KEY,
      );
    });
  });

  describe('team keys', () => {
    const teamAKey = newKey();
    const start = async (requireTeamKey: boolean): Promise<TestApp> =>
      startTestApp(
        { TEAM_A_KEY: teamAKey, AUTH_LOCAL_USERS_FILE: usersFile, GATHER_BASE_URL: fake.baseUrl },
        await configDirWith(
          `gather:\n  teamKeys:\n    team-a: { env: TEAM_A_KEY }\n  requireTeamKey: ${requireTeamKey}`,
        ),
      );

    it("forwards a mapped team's user with the team key and others with the default key", async () => {
      const t = await start(false);
      try {
        const ada = await signIn(t, 'ada', PASSWORD);
        const bob = await signIn(t, 'bob', PASSWORD);
        expect((await call(t, ada, { path: '/api/gather/q' })).status).toBe(200);
        expect((await call(t, ada, { method: 'POST', path: '/api/gather/q' })).status).toBe(200);
        expect((await call(t, bob, { path: '/api/gather/q' })).status).toBe(200);
        expect(fake.requests.map((r) => r.headers['x-api-key'])).toEqual([
          teamAKey,
          teamAKey,
          TEST_KEY,
        ]);
      } finally {
        await t.close();
      }
    });

    it('refuses a user without a mapped team with 403 ROUTE_NOT_ALLOWED when teams are required', async () => {
      const t = await start(true);
      try {
        const bob = await signIn(t, 'bob', PASSWORD);
        const res = await call(t, bob, { path: '/api/gather/q' });
        expect(res.status).toBe(403);
        expect(res.json<Envelope>().error.code).toBe('ROUTE_NOT_ALLOWED');
        expect(fake.requests).toHaveLength(0);
        const ada = await signIn(t, 'ada', PASSWORD);
        expect((await call(t, ada, { path: '/api/gather/q' })).status).toBe(200);
      } finally {
        await t.close();
      }
    });
  });

  describe('allow-list', () => {
    let app: SignedInApp;
    let t: TestApp;
    let cookie: string;
    beforeAll(async () => {
      app = await startSignedInApp(fake.baseUrl, {
        configDir: await configDirWith(
          'proxy:\n  allow:\n    - { method: GET, path: /questions/** }\n    - { method: POST, path: /questions/*/answers }',
        ),
        users: [BOB],
      });
      ({ t, cookie } = app);
    });
    afterAll(() => app.close());

    it.each([
      ['GET', '/api/gather/questions', 200],
      ['GET', '/api/gather/questions/7/answers', 200],
      ['POST', '/api/gather/questions/7/answers', 200],
      ['DELETE', '/api/gather/questions/7', 403],
      ['POST', '/api/gather/questions/7/answers/1', 403],
      ['GET', '/api/gather/answers', 403],
    ])('%s %s -> %i', async (method, path, status) => {
      const res = await call(t, cookie, { method, path });
      expect(res.status).toBe(status);
      if (status === 403) {
        expect(res.json<Envelope>().error.code).toBe('ROUTE_NOT_ALLOWED');
        expect(fake.requests).toHaveLength(0);
      }
    });

    it('checks the session before the allow-list (SPEC order)', async () => {
      const res = await send(t.url, {
        method: 'DELETE',
        path: '/api/gather/questions/7',
        headers: { 'x-csrf': '1' },
      });
      expect(res.status).toBe(401);
    });
  });
});
