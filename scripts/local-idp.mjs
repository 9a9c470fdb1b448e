// A local OpenID Provider for trying OIDC sign-in (docs/local-idp.md): oidc-provider, a
// devDependency, on loopback only, with the BFF registered as a confidential client. Any login
// name signs in (the password is not checked); every account is in team `team-a`.
//
//   LOCAL_IDP_PORT=9000 BFF_PUBLIC_URL=http://localhost:3000 node scripts/local-idp.mjs
//
// It prints the OIDC_* settings for the BFF, then `local IdP ready`. Never expose it: it is a
// development provider with in-memory storage and development login pages.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.LOCAL_IDP_PORT ?? 9000);
const bff = (process.env.BFF_PUBLIC_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
const clientSecret = process.env.LOCAL_IDP_CLIENT_SECRET ?? randomBytes(24).toString('base64url');
const issuer = `http://127.0.0.1:${port}`;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'gather-bff',
      client_secret: clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [`${bff}/auth/callback`],
      post_logout_redirect_uris: [`${bff}/`],
      backchannel_logout_uri: `${bff}/auth/backchannel-logout`,
      backchannel_logout_session_required: true,
    },
  ],
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    profile: ['name', 'groups'],
    email: ['email'],
  },
  findAccount: (_ctx, sub) => ({
    accountId: sub,
    claims: () => ({ sub, name: sub, email: `${sub}@example.test`, groups: ['team-a'] }),
  }),
  // oidc-provider refuses to send requests to loopback and private addresses (SSRF protection),
  // which would stop its back-channel logout reaching a BFF on this machine: for loopback
  // targets only, its guarding dispatcher is left out.
  fetch: (url, options) => {
    if (!LOOPBACK.has(new URL(url).hostname)) return fetch(url, options);
    return fetch(url, { ...options, dispatcher: undefined });
  },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: true },
  },
});

const server = createServer(provider.callback());
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(
    [
      `OIDC_ISSUER_URL=${issuer}`,
      'OIDC_CLIENT_ID=gather-bff',
      `OIDC_CLIENT_SECRET=${clientSecret}`,
      'OIDC_SCOPES="openid profile email offline_access"',
      'OIDC_TEAM_CLAIM=groups',
      'local IdP ready',
      '',
    ].join('\n'),
  );
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
