import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import * as oidc from 'openid-client';
import type { AppConfig } from '../../config/config.schema';
import { BffError } from '../../http/error-codes';
import { insecureIssuerAllowed } from '../../config/issuer-url';
import { describeProviderError } from './provider-errors';

/** Longest wait for any one request to the provider: discovery, token, userinfo. */
export const PROVIDER_TIMEOUT_SECONDS = 5;

/** OIDC as configured, with the two URLs the provider must know derived from PUBLIC_URL. */
export interface OidcSettings {
  readonly issuerUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scopes: string;
  readonly teamClaim?: string;
  /** OIDC_AUTH_PARAMS: extra authorization-request parameters. */
  readonly authParams?: Readonly<Record<string, string>>;
  readonly transactionTtlSeconds: number;
  /** PUBLIC_URL + /auth/callback */
  readonly redirectUri: string;
  /** PUBLIC_URL + / */
  readonly postLogoutRedirectUri: string;
}

/**
 * The BFF as a client of the OIDC provider: its settings and the provider's discovered
 * configuration. Discovery is tried at start-up (bounded by PROVIDER_TIMEOUT_SECONDS); when the
 * provider cannot be reached then, start-up goes on (local sign-in, sessions and the proxy do
 * not need it) and each OIDC login tries again, one attempt at a time, answering 503
 * SERVICE_UNAVAILABLE until one succeeds.
 */
@Injectable()
export class OidcClient implements OnModuleInit {
  private readonly logger = new Logger('Oidc');
  readonly settings: OidcSettings | undefined;
  private discovered: oidc.Configuration | undefined;
  private discovering: Promise<oidc.Configuration> | undefined;
  private keys: JWTVerifyGetKey | undefined;

  constructor(@Inject(ConfigService) config: ConfigService<AppConfig, true>) {
    const settings = config.get('auth', { infer: true }).oidc;
    const base = config.get('server', { infer: true }).publicUrl.replace(/\/+$/, '');
    this.settings = settings && {
      ...settings,
      redirectUri: `${base}/auth/callback`,
      postLogoutRedirectUri: `${base}/`,
    };
  }

  get enabled(): boolean {
    return this.settings !== undefined;
  }

  async onModuleInit(): Promise<void> {
    if (!this.enabled) return;
    // A failure is logged by discover(); logins retry it.
    await this.configuration().catch(() => undefined);
  }

  /** The provider's configuration, discovering it first if that has not succeeded yet. */
  configuration(): Promise<oidc.Configuration> {
    if (this.discovered) return Promise.resolve(this.discovered);
    this.discovering ??= this.discover().finally(() => {
      this.discovering = undefined;
    });
    return this.discovering;
  }

  /**
   * Where the browser goes to end its session at the provider too (RP-initiated logout), or
   * null when OIDC is off or the provider has no end-session endpoint or cannot be reached. It
   * names the client and where to come back, never a token: page script reads this URL
   * (docs/contract.md, "Routes").
   */
  async endSessionUrl(): Promise<string | null> {
    if (!this.settings) return null;
    const config = await this.configuration().catch(() => undefined);
    const endpoint = config?.serverMetadata().end_session_endpoint;
    if (endpoint === undefined) return null;
    const url = new URL(endpoint);
    url.searchParams.set('client_id', this.settings.clientId);
    url.searchParams.set('post_logout_redirect_uri', this.settings.postLogoutRedirectUri);
    return url.href;
  }

  /**
   * The provider's signing keys for logout tokens: its `jwks_uri`, fetched by jose, cached, and
   * fetched again when a token names a `kid` not in the cache.
   */
  async signingKeys(): Promise<JWTVerifyGetKey> {
    if (this.keys) return this.keys;
    const jwksUri = (await this.configuration()).serverMetadata().jwks_uri;
    if (jwksUri === undefined)
      throw new BffError('SERVICE_UNAVAILABLE', 'The provider has no jwks_uri');
    this.keys = createRemoteJWKSet(new URL(jwksUri), {
      timeoutDuration: PROVIDER_TIMEOUT_SECONDS * 1000,
    });
    return this.keys;
  }

  private async discover(): Promise<oidc.Configuration> {
    const settings = this.settings as OidcSettings;
    try {
      this.discovered = await oidc.discovery(
        new URL(settings.issuerUrl),
        settings.clientId,
        undefined,
        clientSecretAuth(settings.clientSecret),
        {
          timeout: PROVIDER_TIMEOUT_SECONDS,
          // openid-client refuses http; the configuration only allows it on loopback.
          execute: insecureIssuerAllowed(settings.issuerUrl) ? [oidc.allowInsecureRequests] : [],
        },
      );
      this.logger.log(`OIDC provider ${settings.issuerUrl} discovered`);
      return this.discovered;
    } catch (err) {
      this.logger.warn(
        `OIDC discovery at ${settings.issuerUrl} failed (${describeProviderError(err)}); OIDC sign-in answers 503 until it succeeds`,
      );
      throw new BffError('SERVICE_UNAVAILABLE', 'The identity provider cannot be reached');
    }
  }
}

/**
 * client_secret_basic where the provider supports it (also the default when it does not say,
 * RFC 8414), client_secret_post otherwise; chosen per request from the discovered metadata.
 */
function clientSecretAuth(secret: string): oidc.ClientAuth {
  const basic = oidc.ClientSecretBasic(secret);
  const post = oidc.ClientSecretPost(secret);
  return (as, client, body, headers) => {
    const supported = as.token_endpoint_auth_methods_supported;
    const auth = !supported || supported.includes('client_secret_basic') ? basic : post;
    auth(as, client, body, headers);
  };
}
