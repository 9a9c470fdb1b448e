import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** The accounts the provider knows, by login name (= `sub`), and the claims it releases. */
export const IDP_ACCOUNTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  ada: { name: 'Ada Lovelace', email: 'ada@example.test', groups: ['team-a', 'team-z'] },
  // No `name` (the BFF falls back to preferred_username) and no team.
  grace: { preferred_username: 'grace.h', email: 'grace@example.test', groups: [] },
  alan: { name: 'Alan Turing', email: 'alan@example.test', groups: ['team-a'] },
};

export const IDP_CLIENT_ID = 'gather-bff';
export const IDP_CLIENT_SECRET = 'fake-idp-client-secret-0123456789';

export interface FakeIdpOptions {
  /** The BFF's PUBLIC_URL + /auth/callback, registered for the client. */
  redirectUri: string;
  /** The BFF's PUBLIC_URL + /, registered for RP-initiated logout. */
  postLogoutRedirectUri: string;
  /** Listen here instead of on a fresh port (to bring a stopped provider back). */
  port?: number;
  /** `false`: no refresh token with any code, as providers that drop offline_access. */
  refreshTokens?: boolean;
}

export interface FakeIdp {
  /** `http://127.0.0.1:<port>`, the value for OIDC_ISSUER_URL. */
  readonly issuer: string;
  readonly port: number;
  /**
   * Where the provider's back-channel logout requests go: the BFF's real address (the client
   * registers a relay on the provider's own port, since the BFF's port is known only later).
   */
  setBackchannelTarget(bffUrl: string): void;
  /** The back-channel logout requests the provider sent so far: the BFF's answer to each. */
  readonly backchannelAnswers: BackchannelAnswer[];
  /** ...and the form body of each (`logout_token=<JWT>`). */
  readonly backchannelBodies: string[];
  /** Every token the provider issued (ID, access and refresh tokens), for leak checks. */
  readonly issuedTokens: string[];
  /** How many refresh_token grants the provider answered. */
  refreshes(): number;
  /** From now on the provider knows no such account: its refresh tokens are refused. */
  disableAccount(sub: string): void;
  /**
   * A logout token signed with the provider's key, as its back-channel logout would send:
   * `claims` add to or replace the defaults (iss, aud, iat now, exp in 2 minutes, a fresh jti,
   * the back-channel logout event); a claim set to undefined is left out.
   */
  signLogoutToken(claims: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/** The BFF's answer to one back-channel logout request. */
export interface BackchannelAnswer {
  status: number;
  cacheControl: string | null;
}

/** The relay path registered as the client's backchannel_logout_uri. */
const BACKCHANNEL_RELAY = '/__relay/backchannel-logout';

/** The little of oidc-provider's API this fake uses (the package ships no types). */
interface ProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  on(event: 'grant.success', listener: (ctx: GrantContext) => void): void;
}
interface GrantContext {
  body?: Record<string, unknown>;
  oidc: { params?: { grant_type?: unknown } };
}
type ProviderClass = new (issuer: string, configuration: object) => ProviderInstance;

/**
 * A real OpenID Provider (oidc-provider, the certified implementation) on a loopback port:
 * one confidential client (client_secret_basic) for the BFF, PKCE required, the default
 * development login and consent pages (any password is accepted for a known login),
 * RP-initiated logout, back-channel logout (through a relay to the BFF, see
 * `setBackchannelTarget`) and refresh tokens (refused once `disableAccount` was called). `groups` is released with the `profile` scope, so the BFF's default
 * OIDC_SCOPES bring the team claim along; profile and email claims come from userinfo, as
 * with many real providers.
 */
export async function startFakeIdp(options: FakeIdpOptions): Promise<FakeIdp> {
  // ESM-only and untyped: a dynamic import with a computed specifier.
  const specifier = 'oidc-provider';
  const { default: Provider } = (await import(specifier)) as { default: ProviderClass };

  const sockets = new Set<Socket>();
  const server = createServer();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  let backchannelTarget: string | undefined;
  const backchannelAnswers: BackchannelAnswer[] = [];
  const backchannelBodies: string[] = [];
  const disabled = new Set<string>();

  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    format: 'jwk',
  });
  const restoreConsole = quietDevelopmentNotices();
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: IDP_CLIENT_ID,
        client_secret: IDP_CLIENT_SECRET,
        redirect_uris: [options.redirectUri],
        post_logout_redirect_uris: [options.postLogoutRedirectUri],
        response_types: ['code'],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'client_secret_basic',
        backchannel_logout_uri: `${issuer}${BACKCHANNEL_RELAY}`,
        backchannel_logout_session_required: true,
      },
    ],
    // A refresh token with every code of this client, so the BFF's provider re-check runs.
    issueRefreshToken: () => options.refreshTokens ?? true,
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username', 'groups'],
      email: ['email'],
    },
    findAccount: (_ctx: unknown, sub: string) => {
      const known = Object.hasOwn(IDP_ACCOUNTS, sub) && !disabled.has(sub);
      const claims = known ? IDP_ACCOUNTS[sub] : undefined;
      return claims && { accountId: sub, claims: () => ({ sub, ...claims }) };
    },
    jwks: { keys: [{ ...signingKey, kid: 'fake-idp-1', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      Grant: 600,
      IdToken: 600,
      Interaction: 600,
      Session: 600,
    },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      backchannelLogout: { enabled: true },
    },
  });
  const issuedTokens: string[] = [];
  let refreshes = 0;
  provider.on('grant.success', (ctx) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') refreshes += 1;
    for (const name of ['id_token', 'access_token', 'refresh_token']) {
      const token = ctx.body?.[name];
      if (typeof token === 'string') issuedTokens.push(token);
    }
  });
  const handle = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === BACKCHANNEL_RELAY) void relay(req, res);
    else handle(req, res);
  });

  /** Forwards the provider's back-channel logout POST to the BFF, as it would have sent it. */
  async function relay(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (backchannelTarget === undefined) {
      res.writeHead(404).end();
      return;
    }
    backchannelBodies.push(Buffer.concat(chunks).toString('utf8'));
    const answer = await fetch(`${backchannelTarget}/auth/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? '' },
      body: Buffer.concat(chunks),
    });
    backchannelAnswers.push({
      status: answer.status,
      cacheControl: answer.headers.get('cache-control'),
    });
    res.writeHead(answer.status).end(await answer.text());
  }

  return {
    issuer,
    port,
    setBackchannelTarget: (bffUrl) => {
      backchannelTarget = bffUrl;
    },
    backchannelAnswers,
    backchannelBodies,
    issuedTokens,
    refreshes: () => refreshes,
    disableAccount: (sub) => {
      disabled.add(sub);
    },
    signLogoutToken: async (claims) => {
      const now = Math.floor(Date.now() / 1000);
      const payload = JSON.parse(
        JSON.stringify({
          iss: issuer,
          aud: IDP_CLIENT_ID,
          iat: now,
          exp: now + 120,
          jti: randomUUID(),
          events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
          ...claims,
        }),
      ) as Record<string, unknown>;
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'RS256', kid: 'fake-idp-1', typ: 'logout+jwt' })
        .sign(await importJWK(signingKey, 'RS256'));
    },
    close: async () => {
      restoreConsole();
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/**
 * oidc-provider prints a warning for each development shortcut a test fake takes on purpose
 * (in-memory storage, development interactions); Jest would show each with a stack trace.
 */
function quietDevelopmentNotices(): () => void {
  const { warn, info } = console;
  const filter =
    (write: (...args: unknown[]) => void) =>
    (...args: unknown[]): void => {
      if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider ')) return;
      write(...args);
    };
  console.warn = filter(warn);
  console.info = filter(info);
  return () => {
    console.warn = warn;
    console.info = info;
  };
}
