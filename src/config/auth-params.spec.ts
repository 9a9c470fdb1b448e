import { join } from 'node:path';
import { ConfigError, loadConfig, type Env } from './load-config';

const CONFIG_DIR = join(__dirname, '..', '..', 'config');
const OIDC: Env = {
  GATHER_API_KEY: 'qapi_unitTestKey0123456789',
  SESSION_SECRET: 'Zq3v9N1xK8pW2mR7tY4bL6cH0dF5gJ3s',
  OIDC_ISSUER_URL: 'https://idp.example.com',
  OIDC_CLIENT_ID: 'gather-bff',
  OIDC_CLIENT_SECRET: 'client-secret',
};

function refusal(env: Env): string {
  try {
    loadConfig(env, CONFIG_DIR);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('started');
}

describe('OIDC_AUTH_PARAMS', () => {
  it('is parsed from query-string form into parameters', () => {
    const config = loadConfig(
      { ...OIDC, OIDC_AUTH_PARAMS: 'audience=https%3A%2F%2Fapi&acr_values=urn:mfa' },
      CONFIG_DIR,
    );
    expect(config.auth.oidc?.authParams).toEqual({
      audience: 'https://api',
      acr_values: 'urn:mfa',
    });
  });

  it.each([
    'client_id',
    'redirect_uri',
    'state',
    'nonce',
    'code_challenge',
    'code_challenge_method',
    'response_type',
    'scope',
  ])('refuses to start when it sets %s, naming the setting and not its value', (name) => {
    const message = refusal({ ...OIDC, OIDC_AUTH_PARAMS: `audience=x&${name}=sneaky-value` });
    expect(message).toContain('OIDC_AUTH_PARAMS (auth.oidc.authParams): must not set');
    expect(message).not.toContain('sneaky-value');
    expect(message).not.toContain('audience=x');
  });
});
