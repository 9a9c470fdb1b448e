import { join } from 'node:path';
import { ConfigError, loadConfig, type Env } from '../../config/load-config';
import { acceptableIssuer, insecureIssuerAllowed } from '../../config/issuer-url';

const CONFIG_DIR = join(__dirname, '..', '..', '..', 'config');

const BASE: Env = {
  APP_ENV: 'test',
  SESSION_SECRET: 'k3J9xQ2mV8pL4wR7tY1uZ6nB5cD0fG3hJ',
  GATHER_API_KEY: 'qapi_configSpecKey0123456789',
  PUBLIC_URL: 'http://localhost:3000',
};

const OIDC: Env = {
  OIDC_ISSUER_URL: 'https://idp.example.com/realms/acme',
  OIDC_CLIENT_ID: 'gather-bff',
  OIDC_CLIENT_SECRET: 'client-secret',
};

function problemsOf(env: Env): string {
  try {
    loadConfig({ ...BASE, ...env }, CONFIG_DIR);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('configuration was accepted');
}

describe('OIDC configuration', () => {
  it('is off without any OIDC_* variable', () => {
    expect(loadConfig(BASE, CONFIG_DIR).auth.oidc).toBeUndefined();
  });

  it('applies the documented default scopes and a 10-minute login transaction when unset', () => {
    expect(loadConfig({ ...BASE, ...OIDC }, CONFIG_DIR).auth.oidc).toEqual({
      issuerUrl: 'https://idp.example.com/realms/acme',
      clientId: 'gather-bff',
      clientSecret: 'client-secret',
      scopes: 'openid profile email',
      transactionTtlSeconds: 600,
    });
  });

  it('takes OIDC_SCOPES and OIDC_TEAM_CLAIM as given', () => {
    const oidc = loadConfig(
      { ...BASE, ...OIDC, OIDC_SCOPES: 'openid email groups', OIDC_TEAM_CLAIM: 'groups' },
      CONFIG_DIR,
    ).auth.oidc;
    expect(oidc).toMatchObject({ scopes: 'openid email groups', teamClaim: 'groups' });
  });

  it('names every missing setting when only part of OIDC is configured', () => {
    const message = problemsOf({ OIDC_CLIENT_ID: 'gather-bff' });
    expect(message).toContain('OIDC_ISSUER_URL (auth.oidc.issuerUrl)');
    expect(message).toContain('OIDC_CLIENT_SECRET (auth.oidc.clientSecret)');
  });

  it('refuses scopes without openid', () => {
    expect(problemsOf({ ...OIDC, OIDC_SCOPES: 'profile email' })).toContain(
      'OIDC_SCOPES (auth.oidc.scopes): must include "openid"',
    );
  });

  it('refuses a plain-http issuer other than localhost or 127.0.0.1', () => {
    expect(problemsOf({ ...OIDC, OIDC_ISSUER_URL: 'http://idp.example.com' })).toContain(
      'OIDC_ISSUER_URL (auth.oidc.issuerUrl): must be https',
    );
  });
});

describe('issuer URLs', () => {
  it.each(['https://idp.example.com', 'http://localhost:8080/realms/x', 'http://127.0.0.1:9000'])(
    'accepts %s',
    (issuer) => expect(acceptableIssuer(issuer)).toBe(true),
  );

  it.each([
    'http://idp.example.com',
    'http://127.0.0.2',
    'http://localhost.evil.example',
    'http://[::1]:8080',
    'ftp://localhost',
    'not a url',
  ])('refuses %s', (issuer) => expect(acceptableIssuer(issuer)).toBe(false));

  it('allows insecure requests only for plain http on loopback', () => {
    expect(insecureIssuerAllowed('http://127.0.0.1:9000')).toBe(true);
    expect(insecureIssuerAllowed('http://localhost')).toBe(true);
    expect(insecureIssuerAllowed('https://localhost')).toBe(false);
    expect(insecureIssuerAllowed('http://idp.example.com')).toBe(false);
  });
});
