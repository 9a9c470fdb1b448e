import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { freePort } from '../../src/http/free-port';
import { OidcBrowser, sessionCookieOf, signInWithOidc } from '../support/oidc-browser';
import { startTestApp, TEST_ORIGIN, type TestApp } from '../support/start-app';
import { until } from '../support/until';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'local-idp.mjs');

/** The `NAME=value` lines the script prints for the BFF, without the shell quotes. */
function settingsIn(output: string): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [, name, value] of output.matchAll(/^(OIDC_[A-Z_]+)=(.*)$/gm)) {
    settings[name as string] = (value as string).replace(/^"(.*)"$/, '$1');
  }
  return settings;
}

/* docs/local-idp.md: the recipe as written, run against the real application. */
describe('the local IdP recipe (scripts/local-idp.mjs)', () => {
  let idp: ChildProcess;
  let output = '';
  let t: TestApp;

  beforeAll(async () => {
    idp = spawn(process.execPath, [SCRIPT], {
      env: {
        PATH: process.env.PATH,
        LOCAL_IDP_PORT: String(await freePort()),
        BFF_PUBLIC_URL: TEST_ORIGIN,
      },
    });
    idp.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    await until(() => output.includes('local IdP ready'), 15_000);
    t = await startTestApp(settingsIn(output));
  });
  afterAll(async () => {
    await t?.close();
    if (idp.exitCode === null) {
      idp.kill('SIGTERM');
      await once(idp, 'exit');
    }
  });

  it('prints the BFF settings, and a sign-in through it starts a session with the team claim', async () => {
    expect(Object.keys(settingsIn(output)).sort()).toEqual([
      'OIDC_CLIENT_ID',
      'OIDC_CLIENT_SECRET',
      'OIDC_ISSUER_URL',
      'OIDC_SCOPES',
      'OIDC_TEAM_CLAIM',
    ]);
    const res = await signInWithOidc(new OidcBrowser(t.url), 'ada', '/questions');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/questions');
    const me = await fetch(`${t.url}/auth/me`, { headers: { cookie: sessionCookieOf(res) } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user: unknown }).user).toMatchObject({
      id: 'ada',
      name: 'ada',
      email: 'ada@example.test',
      team: 'team-a',
    });
    // offline_access with prompt=consent: the provider issued a refresh token, no warning.
    expect(t.logs()).not.toContain('the provider re-check is off');
  });
});
