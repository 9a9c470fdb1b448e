import type { CookieOptions } from 'express';
import type { AppConfig } from '../config/config.schema';

export interface SessionCookiePolicy {
  readonly name: string;
  /** Attributes for setting and for clearing alike; no Max-Age or Expires (a browser-session cookie). */
  readonly options: Readonly<CookieOptions> & { sameSite: 'strict' | 'lax'; secure: boolean };
}

export interface TransactionCookiePolicy {
  readonly name: string;
  /** Attributes for clearing; setting adds Max-Age. */
  readonly options: Readonly<CookieOptions>;
  readonly maxAgeMs: number;
}

/** Every cookie the BFF sets. */
export interface BffCookies {
  /** The signed session id. */
  readonly session: SessionCookiePolicy;
  /** The sealed OIDC sign-ins in progress: one cookie each, `<name>_<tag>`. */
  readonly transaction: TransactionCookiePolicy;
}

type CookieSettings = Pick<AppConfig['session'], 'cookieSecure' | 'cookieSameSite'>;

/**
 * Every cookie of the BFF and every attribute, decided in one table (docs/contract.md,
 * Sessions). With COOKIE_SECURE both carry `__Host-`, which makes the browser insist on Secure,
 * Path=/ and no Domain. The session lasts as long as the browser session (its lifetime is
 * enforced server-side). The transaction cookie is SameSite=Lax, because the provider sends the
 * browser back cross-site and a Strict cookie would not come along, and lives as long as a
 * sign-in may take.
 */
export function bffCookies(settings: CookieSettings, transactionTtlSeconds: number): BffCookies {
  const secure = settings.cookieSecure;
  const prefix = secure ? '__Host-' : '';
  const base = { httpOnly: true, path: '/', secure } as const;
  return {
    session: {
      name: `${prefix}gather_session`,
      options: { ...base, sameSite: settings.cookieSameSite },
    },
    transaction: {
      name: `${prefix}gather_oidc`,
      options: { ...base, sameSite: 'lax' },
      maxAgeMs: transactionTtlSeconds * 1000,
    },
  };
}

/** The session cookie's row of the table. */
export function sessionCookiePolicy(settings: CookieSettings): SessionCookiePolicy {
  // The transaction's lifetime does not shape the session cookie.
  return bffCookies(settings, 0).session;
}
