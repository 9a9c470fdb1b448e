import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MetricsServer } from '../../src/observability/metrics-server';
import { signedSessionId } from '../../src/session/session-cookie';
import { freePort } from '../../src/http/free-port';
import { expectBffError } from '../support/http';
import { signIn, writeUsersFile } from '../support/session';
import { startTestApp, type TestApp } from '../support/start-app';
import { tempDir } from '../support/temp-dir';

/**
 * Secrets mounted as files, as compose secrets and Kubernetes Secret volumes give them
 * (docs/configuration.md, "Secrets from files"): the app started with SESSION_SECRET_FILE and
 * ADMIN_TOKEN_FILE signs its cookies and guards its admin routes with what the files hold.
 */
const SESSION_SECRET = 'file-session-secret-0123456789abcdefghij';
const ADMIN_TOKEN = 'file-admin-token-0123456789-abcdefghijkl';
const ADA = { username: 'ada', password: 'ada password 1', name: 'Ada', email: 'ada@example.test' };

describe('secrets read from files at start', () => {
  let t: TestApp;
  let metricsUrl: string;
  beforeAll(async () => {
    const dir = await tempDir('secret-files-');
    // As mounted: a trailing newline, which is not part of the secret.
    await writeFile(join(dir, 'session_secret'), `${SESSION_SECRET}\n`, { mode: 0o400 });
    await writeFile(join(dir, 'admin_token'), `${ADMIN_TOKEN}\n`, { mode: 0o400 });
    t = await startTestApp({
      SESSION_SECRET: '',
      SESSION_SECRET_FILE: join(dir, 'session_secret'),
      ADMIN_TOKEN_FILE: join(dir, 'admin_token'),
      AUTH_LOCAL_USERS_FILE: await writeUsersFile([ADA]),
      METRICS_PORT: String(await freePort()),
    });
    metricsUrl = `http://127.0.0.1:${t.app.get(MetricsServer).address()?.port as number}`;
  });
  afterAll(() => t?.close());

  it("signs the session cookie with SESSION_SECRET_FILE's secret", async () => {
    const cookie = await signIn(t, ADA.username, ADA.password);
    const [name] = cookie.split('=');
    expect(signedSessionId(cookie, name as string, [SESSION_SECRET])).toEqual(expect.any(String));
    expect((await fetch(`${t.url}/auth/me`, { headers: { cookie } })).status).toBe(200);
  });

  it("opens the admin routes to ADMIN_TOKEN_FILE's token, and to nothing else", async () => {
    const sessions = (token: string) =>
      fetch(`${metricsUrl}/admin/users/ada/sessions`, {
        headers: { authorization: `Bearer ${token}` },
      });
    const res = await sessions(ADMIN_TOKEN);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      sessions: [expect.objectContaining({ userAgent: 'node' })],
    });
    await expectBffError(await sessions(`${ADMIN_TOKEN}x`), 401, 'UNAUTHORIZED');
  });

  it('never logs what the files hold', () => {
    expect(t.logs()).not.toContain(SESSION_SECRET);
    expect(t.logs()).not.toContain(ADMIN_TOKEN);
  });
});
