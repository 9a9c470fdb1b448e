import {
  startFakeIdp,
  IDP_CLIENT_ID,
  IDP_CLIENT_SECRET,
  type FakeIdp,
} from '../fakes/oidc-provider';
import { OidcBrowser, signInWithOidc, startOidcLogin } from '../support/oidc-browser';
import { startTestApp, TEST_ORIGIN, type TestApp } from '../support/start-app';

const IDP_URLS = {
  redirectUri: `${TEST_ORIGIN}/auth/callback`,
  postLogoutRedirectUri: `${TEST_ORIGIN}/`,
};
const OFFLINE_SCOPES = 'openid profile email offline_access';
const NO_REFRESH_TOKEN = 'the provider re-check is off for this session';

const oidcEnv = (idp: FakeIdp, extra: Record<string, string> = {}): Record<string, string> => ({
  OIDC_ISSUER_URL: idp.issuer,
  OIDC_CLIENT_ID: IDP_CLIENT_ID,
  OIDC_CLIENT_SECRET: IDP_CLIENT_SECRET,
  ...extra,
});

/** The parameters of the authorization request `GET /auth/login` redirects to. */
async function authorizationParams(t: TestApp): Promise<URLSearchParams> {
  return new URL(await startOidcLogin(new OidcBrowser(t.url))).searchParams;
}

/** The log lines of sign-ins since `from` that say no refresh token came. */
const noRefreshWarnings = (t: TestApp, from: number): string[] =>
  t
    .logs()
    .slice(from)
    .split('\n')
    .filter((line) => line.includes(NO_REFRESH_TOKEN));

describe('the authorization request', () => {
  let idp: FakeIdp;
  const apps: TestApp[] = [];
  beforeAll(async () => {
    idp = await startFakeIdp(IDP_URLS);
  });
  afterAll(async () => {
    await Promise.all(apps.map((t) => t.close()));
    await idp?.close();
  });
  const start = async (extra: Record<string, string>): Promise<TestApp> => {
    const t = await startTestApp(oidcEnv(idp, extra));
    apps.push(t);
    return t;
  };

  it('carries prompt=consent with offline_access in OIDC_SCOPES, and the OIDC_AUTH_PARAMS', async () => {
    const t = await start({
      OIDC_SCOPES: OFFLINE_SCOPES,
      OIDC_AUTH_PARAMS: 'audience=https%3A%2F%2Fgather.example&acr_values=urn:mfa',
    });
    const params = await authorizationParams(t);
    expect(params.get('scope')).toBe(OFFLINE_SCOPES);
    expect(params.get('prompt')).toBe('consent');
    expect(params.get('audience')).toBe('https://gather.example');
    expect(params.get('acr_values')).toBe('urn:mfa');
    // The provider keeps offline_access and issues a refresh token: no warning.
    const from = t.logs().length;
    const res = await signInWithOidc(new OidcBrowser(t.url), 'ada');
    expect(res.status).toBe(302);
    expect(noRefreshWarnings(t, from)).toEqual([]);
  });

  it('carries no prompt without offline_access; a prompt of OIDC_AUTH_PARAMS gets consent added with it', async () => {
    expect((await authorizationParams(await start({}))).has('prompt')).toBe(false);
    const both = await start({ OIDC_SCOPES: OFFLINE_SCOPES, OIDC_AUTH_PARAMS: 'prompt=login' });
    expect((await authorizationParams(both)).get('prompt')).toBe('login consent');
  });

  it.each([
    'client_id',
    'redirect_uri',
    'state',
    'nonce',
    'code_challenge_method',
    'response_type',
    'scope',
  ])(
    'refuses to start with %s in OIDC_AUTH_PARAMS, naming the setting, not its value',
    async (name) => {
      const started = startTestApp(oidcEnv(idp, { OIDC_AUTH_PARAMS: `${name}=sneaky-value` }));
      await expect(started).rejects.toThrow(
        /OIDC_AUTH_PARAMS \(auth\.oidc\.authParams\): must not set/,
      );
      await expect(started).rejects.not.toThrow(/sneaky-value/);
    },
  );
});

describe('a provider that drops offline_access', () => {
  let idp: FakeIdp;
  let t: TestApp;
  beforeAll(async () => {
    idp = await startFakeIdp({ ...IDP_URLS, refreshTokens: false });
    t = await startTestApp(oidcEnv(idp, { OIDC_SCOPES: OFFLINE_SCOPES }));
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  it('signs in, with one warn line per sign-in saying the provider re-check is off', async () => {
    const from = t.logs().length;
    const res = await signInWithOidc(new OidcBrowser(t.url), 'ada');
    expect(res.status).toBe(302);
    const warnings = noRefreshWarnings(t, from);
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0] as string)).toMatchObject({ level: 40, userId: 'ada' });
  });
});
