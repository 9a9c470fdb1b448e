import { Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import * as oidc from 'openid-client';
import passport from 'passport';
import { BffError } from '../../http/error-codes';
import type { SessionUser } from '../../session/session-user';
import type { OidcClient, OidcSettings } from './oidc-client.service';
import { needsUserInfo, sessionUserFromClaims, type Claims } from './oidc-user';
import { describeProviderError, providerUnavailable } from './provider-errors';
import { safeReturnTo } from './return-to';
import type { TransactionCookie } from './transaction-cookie';

/** What the route asks of the strategy: send the browser to the provider, or take it back. */
export interface OidcStep {
  readonly step: 'login' | 'callback';
  /** Where the login transaction cookie is written or cleared. */
  readonly res: Response;
}

/** Passport's `info` on success: what the session keeps beside the user, and where to go. */
export interface OidcSuccessInfo {
  readonly returnTo: string;
  /** The provider's session (the ID token's `sid`), for back-channel logout. */
  readonly providerSid?: string;
  /** When the provider issued one: the provider re-check uses it. */
  readonly refreshToken?: string;
}

/** Passport's challenge on failure: why, in words the browser may see. */
export interface OidcFailure {
  readonly message: string;
  /**
   * The provider answered this browser's sign-in with an error (the user cancelled, …): the
   * sign-in's returnTo with `signin_error` added, where the browser goes instead of an error.
   */
  readonly redirectTo?: string;
}

/**
 * Authorization code flow with PKCE (S256), state and nonce, as a passport strategy around
 * openid-client's functions. openid-client's own passport Strategy keeps the transaction in
 * `req.session`, which the provider's cross-site return does not bring back (the session
 * cookie is SameSite=Strict), and sends state and nonce only in some cases; here the
 * transaction lives in its own sealed cookie and both are always sent and checked.
 *
 * Passport runs `authenticate` on a per-request object whose prototype is this instance, with
 * success, fail, redirect and error attached; sessions stay ours (no passport.session()).
 */
export class OidcStrategy extends passport.Strategy {
  override readonly name = 'oidc';
  private readonly logger = new Logger('Oidc');

  constructor(
    private readonly client: OidcClient,
    private readonly transactions: TransactionCookie,
  ) {
    super();
  }

  override authenticate(req: Request, options: OidcStep): void {
    const step =
      options.step === 'login' ? this.login(req, options.res) : this.callback(req, options.res);
    step.catch((err: unknown) => this.error(err as Error));
  }

  private async login(req: Request, res: Response): Promise<void> {
    const config = await this.client.configuration();
    const settings = this.settings();
    const fields = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      returnTo: safeReturnTo(req.query.returnTo),
    };
    const url = oidc.buildAuthorizationUrl(config, {
      ...authorizationExtras(settings),
      response_type: 'code',
      redirect_uri: settings.redirectUri,
      scope: settings.scopes,
      code_challenge: await oidc.calculatePKCECodeChallenge(fields.codeVerifier),
      code_challenge_method: 'S256',
      state: fields.state,
      nonce: fields.nonce,
    });
    this.transactions.issue(req, res, fields);
    this.redirect(url.href);
  }

  private async callback(req: Request, res: Response): Promise<void> {
    const transaction = this.transactions.take(req, res);
    if (!transaction) {
      return this.refuse('No sign-in in progress here: it expired, was used, or never started');
    }
    const config = await this.client.configuration();
    const settings = this.settings();
    // The provider redirected to the registered redirect_uri; what this process sees behind a
    // proxy may differ, and openid-client sends this URL (without the query) as redirect_uri.
    const currentUrl = new URL(settings.redirectUri);
    currentUrl.search = new URL(req.originalUrl, currentUrl).search;
    let user: SessionUser;
    let info: OidcSuccessInfo;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: transaction.codeVerifier,
        expectedState: transaction.state,
        expectedNonce: transaction.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims() as Claims & { sub: string };
      const userInfo =
        needsUserInfo(claims, settings.teamClaim) && config.serverMetadata().userinfo_endpoint
          ? await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)
          : undefined;
      user = sessionUserFromClaims(claims, userInfo, settings.teamClaim);
      info = {
        returnTo: transaction.returnTo,
        ...(typeof claims.sid === 'string' && claims.sid !== '' ? { providerSid: claims.sid } : {}),
        ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
      };
    } catch (err) {
      this.logger.warn(`OIDC sign-in failed: ${describeProviderError(err)}`);
      if (providerUnavailable(err)) {
        throw new BffError('SERVICE_UNAVAILABLE', 'The identity provider cannot be reached');
      }
      // openid-client checked the state first: this error answers this browser's sign-in.
      if (err instanceof oidc.AuthorizationResponseError) {
        return this.refuse(
          'The identity provider did not sign the user in',
          withSigninError(transaction.returnTo, err.error),
        );
      }
      return this.refuse('The identity provider’s answer could not be verified');
    }
    if (info.refreshToken === undefined && asksOfflineAccess(settings)) {
      this.logger.warn(
        { userId: user.id },
        'The provider issued no refresh token although OIDC_SCOPES asks for offline_access: the provider re-check is off for this session',
      );
    }
    this.success(user, info);
  }

  private refuse(message: string, redirectTo?: string): void {
    const failure: OidcFailure = redirectTo === undefined ? { message } : { message, redirectTo };
    this.fail(failure, 401);
  }

  private settings(): OidcSettings {
    // The routes that reach the strategy exist only when OIDC is configured (OidcModule.forRoot).
    return this.client.settings as OidcSettings;
  }
}

const asksOfflineAccess = (settings: OidcSettings): boolean =>
  settings.scopes.split(/\s+/).includes('offline_access');

/**
 * OIDC_AUTH_PARAMS, and `prompt=consent` when offline_access is asked for: without it many
 * providers drop offline_access and issue no refresh token (OIDC Core §11). A `prompt` of
 * OIDC_AUTH_PARAMS keeps its values, with `consent` added.
 */
function authorizationExtras(settings: OidcSettings): Record<string, string> {
  const extras = { ...settings.authParams };
  if (asksOfflineAccess(settings)) {
    const prompt = new Set((extras.prompt ?? '').split(/\s+/).filter(Boolean)).add('consent');
    extras.prompt = [...prompt].join(' ');
  }
  return extras;
}

/** Characters of an OAuth error code (RFC 6749, Appendix A.7); anything else is dropped. */
const NOT_ERROR_CODE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g;

/**
 * `returnTo` with `signin_error=<code>` added to its query (docs/contract.md, Sessions): the
 * query it has is kept as written, the code percent-encoded after being cut to the error-code
 * characters, so the provider's text adds one parameter and nothing else.
 */
export function withSigninError(returnTo: string, code: string): string {
  const hashAt = returnTo.indexOf('#');
  const path = hashAt === -1 ? returnTo : returnTo.slice(0, hashAt);
  const hash = hashAt === -1 ? '' : returnTo.slice(hashAt);
  const safe = code.replace(NOT_ERROR_CODE, '').slice(0, 64) || 'error';
  const separator = !path.includes('?') ? '?' : path.endsWith('?') || path.endsWith('&') ? '' : '&';
  return `${path}${separator}signin_error=${encodeURIComponent(safe)}${hash}`;
}
