import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MetricsServer } from '../../src/observability/metrics-server';
import { freePort } from '../../src/http/free-port';
import { expectBffError } from '../support/http';
import { spawnRedis, type SpawnedRedis } from '../support/redis';
import { login, writeUsersFile } from '../support/session';
import { ANSWER_WITHIN_MS } from '../support/spa';
import { startTestApp, TEST_ORIGIN, testEnv, type TestApp } from '../support/start-app';

const ADA = { username: 'ada', password: 'ada password 1', name: 'Ada', email: 'ada@example.test' };
const BOB = { username: 'bob', password: 'bob password 1', name: 'Bob', email: 'bob@example.test' };
const ADMIN_TOKEN = 'admin-token-0123456789-abcdefghijklmnop';

const metricsUrl = (t: TestApp): string =>
  `http://127.0.0.1:${t.app.get(MetricsServer).address()?.port as number}`;

function admin(
  t: TestApp,
  path: string,
  method = 'GET',
  token: string | null = ADMIN_TOKEN,
): Promise<Response> {
  return fetch(`${metricsUrl(t)}${path}`, {
    method,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
  });
}

async function signIn(t: TestApp, user: typeof ADA): Promise<string> {
  const res = await login(t, user.username, user.password);
  expect(res.status).toBe(200);
  return (res.headers.getSetCookie()[0] as string).split(';')[0] as string;
}

const me = (t: TestApp, cookie: string) => fetch(`${t.url}/auth/me`, { headers: { cookie } });

interface AuditLine {
  audit?: boolean;
  event?: string;
  userId?: string;
  requestId?: string;
  reason?: string;
  level?: number;
}

/** The audit lines logged so far. */
const auditLines = (t: TestApp): AuditLine[] =>
  t
    .logs()
    .split('\n')
    .filter((line) => line.includes('"audit":true'))
    .map((line) => JSON.parse(line) as AuditLine);

let usersFile: string;
beforeAll(async () => {
  usersFile = await writeUsersFile([ADA, BOB]);
});
afterAll(() => rm(dirname(usersFile), { recursive: true, force: true }));

describe('admin routes across two replicas on one Redis', () => {
  let redis: SpawnedRedis;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    redis = await spawnRedis();
    const shared = {
      REDIS_URL: redis.url,
      SESSION_SECRET: testEnv().SESSION_SECRET as string,
      AUTH_LOCAL_USERS_FILE: usersFile,
      RATE_LIMIT_LOGIN_LIMIT: '1000',
      ADMIN_TOKEN,
    };
    a = await startTestApp({ ...shared, METRICS_PORT: String(await freePort()) });
    b = await startTestApp({ ...shared, METRICS_PORT: String(await freePort()) });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  it('needs the bearer token: missing or wrong → 401 UNAUTHORIZED', async () => {
    expect(
      (await admin(a, '/admin/users/ada/sessions', 'GET', null)).headers.get('www-authenticate'),
    ).toBe('Bearer');
    await expectBffError(
      await admin(a, '/admin/users/ada/sessions', 'GET', null),
      401,
      'UNAUTHORIZED',
    );
    await expectBffError(
      await admin(a, '/admin/users/ada/sessions', 'GET', 'wrong'),
      401,
      'UNAUTHORIZED',
    );
    await expectBffError(
      await admin(a, '/admin/users/ada/sessions', 'DELETE', `${ADMIN_TOKEN}x`),
      401,
      'UNAUTHORIZED',
    );
  });

  it('is never on the public port', async () => {
    const res = await fetch(`${a.url}/admin/users/ada/sessions`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    await expectBffError(res, 404, 'NOT_FOUND');
  });

  it('lists a user’s sessions from every replica, with the ids /auth/sessions shows', async () => {
    const one = await signIn(a, ADA);
    await signIn(b, ADA);
    await signIn(a, BOB);
    const res = await admin(b, '/admin/users/ada/sessions');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { sessions } = (await res.json()) as { sessions: Array<Record<string, unknown>> };
    expect(sessions).toHaveLength(2);
    for (const s of sessions) {
      expect(Object.keys(s).sort()).toEqual(['createdAt', 'id', 'lastSeenAt', 'userAgent']);
    }
    const own = (await (
      await fetch(`${a.url}/auth/sessions`, { headers: { cookie: one } })
    ).json()) as { sessions: Array<{ id: string }> };
    expect(sessions.map((s) => s.id)).toEqual(own.sessions.map((s) => s.id));
    await expectBffError(await admin(a, '/admin/users/ada/nothing'), 404, 'NOT_FOUND');
    await expectBffError(
      await admin(a, '/admin/users/ada/sessions', 'POST'),
      405,
      'METHOD_NOT_ALLOWED',
    );
  });

  it('DELETE ends every session of the user on every replica → {"ended": n}, one audit line each', async () => {
    const cookies = [await signIn(a, ADA), await signIn(b, ADA)];
    const bob = await signIn(b, BOB);
    const before = (await (await admin(a, '/admin/users/ada/sessions')).json()) as {
      sessions: unknown[];
    };
    const res = await admin(a, '/admin/users/ada/sessions', 'DELETE');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ended: before.sessions.length });
    const requestId = res.headers.get('x-request-id');
    for (const cookie of cookies) {
      expect((await me(a, cookie)).status).toBe(401);
      expect((await me(b, cookie)).status).toBe(401);
    }
    expect((await me(a, bob)).status).toBe(200);
    const revoked = auditLines(a).filter((l) => l.requestId === requestId);
    expect(revoked).toHaveLength(before.sessions.length);
    for (const line of revoked) {
      expect(line).toMatchObject({
        audit: true,
        event: 'session.revoked',
        userId: 'ada',
        reason: 'admin',
      });
    }
    expect(await (await admin(b, '/admin/users/ada/sessions', 'DELETE')).json()).toEqual({
      ended: 0,
    });
    const metrics = await (await fetch(`${metricsUrl(a)}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`^bff_sessions_ended_total\\{reason="admin"\\} ${before.sessions.length}$`, 'm'),
    );
  });
});

describe('admin routes without ADMIN_TOKEN', () => {
  it('answer 404 NOT_FOUND on the metrics listener', async () => {
    const t = await startTestApp({ METRICS_PORT: String(await freePort()) });
    try {
      await expectBffError(await admin(t, '/admin/users/ada/sessions'), 404, 'NOT_FOUND');
      await expectBffError(await admin(t, '/admin/users/ada/sessions', 'DELETE'), 404, 'NOT_FOUND');
    } finally {
      await t.close();
    }
  });

  it('an ADMIN_TOKEN under 32 characters stops start-up, naming it and not its value', async () => {
    const started = startTestApp({ ADMIN_TOKEN: 'short-admin-token' });
    await expect(started).rejects.toThrow(/ADMIN_TOKEN/);
    await expect(started).rejects.not.toThrow(/short-admin-token/);
  });
});

describe('security events', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      AUTH_LOCAL_USERS_FILE: usersFile,
      RATE_LIMIT_LOGIN_LIMIT: '1000',
      METRICS_PORT: String(await freePort()),
    });
  });
  afterAll(() => t?.close());

  it('logs login.succeeded, login.failed (userId only for a real user), logout and session.revoked', async () => {
    const ok = await login(t, ADA.username, ADA.password);
    const cookie = (ok.headers.getSetCookie()[0] as string).split(';')[0] as string;
    const wrong = await login(t, ADA.username, 'not her password');
    const unknown = await login(t, 'nobody-here', 'whatever password');
    const other = await signIn(t, ADA);
    const listed = (await (
      await fetch(`${t.url}/auth/sessions`, { headers: { cookie } })
    ).json()) as { sessions: Array<{ id: string; current: boolean }> };
    const otherId = listed.sessions.find((s) => !s.current)?.id as string;
    const revoke = await fetch(`${t.url}/auth/sessions/${otherId}`, {
      method: 'DELETE',
      headers: { cookie, origin: TEST_ORIGIN, 'x-csrf': '1' },
    });
    expect(revoke.status).toBe(204);
    const out = await fetch(`${t.url}/auth/logout`, {
      method: 'POST',
      headers: { cookie, origin: TEST_ORIGIN, 'x-csrf': '1' },
    });

    const byRequest = (res: Response) =>
      auditLines(t).filter((l) => l.requestId === res.headers.get('x-request-id'));
    expect(byRequest(ok)).toEqual([
      expect.objectContaining({ event: 'login.succeeded', userId: 'ada', audit: true }),
    ]);
    expect(byRequest(wrong)).toEqual([
      expect.objectContaining({ event: 'login.failed', userId: 'ada', audit: true }),
    ]);
    const unknownLines = byRequest(unknown);
    expect(unknownLines).toHaveLength(1);
    expect(unknownLines[0]?.event).toBe('login.failed');
    expect(unknownLines[0]).not.toHaveProperty('userId');
    expect(byRequest(revoke)).toEqual([
      expect.objectContaining({ event: 'session.revoked', userId: 'ada', reason: 'revoked' }),
    ]);
    expect(byRequest(out)).toEqual([
      expect.objectContaining({ event: 'logout', userId: 'ada', reason: 'logout' }),
    ]);
    for (const line of auditLines(t)) expect(line.level).toBeGreaterThanOrEqual(30);

    // Never a password, cookie or session id.
    const logs = t.logs();
    for (const secret of [ADA.password, 'not her password', cookie, other]) {
      expect(logs).not.toContain(secret);
      expect(logs).not.toContain(decodeURIComponent(secret.split('=')[1] ?? secret));
    }
    const metrics = await (await fetch(`${metricsUrl(t)}/metrics`)).text();
    expect(metrics).toMatch(/^bff_login_failures_total\{method="local"\} 2$/m);
    expect(metrics).toMatch(/^bff_sessions_started_total\{method="local"\} 2$/m);
    expect(metrics).toMatch(/^bff_sessions_ended_total\{reason="revoked"\} 1$/m);
    expect(metrics).toMatch(/^bff_sessions_ended_total\{reason="logout"\} 1$/m);
  });
});
