import type { CookieOptions } from 'express';
import type { AppConfig } from '../../config/config.schema';
import { sessionCookiePolicy } from '../../session/cookie-policy';

export interface TransactionCookiePolicy {
  readonly name: string;
  /** Attributes for clearing; setting adds Max-Age. */
  readonly options: Readonly<CookieOptions>;
  readonly maxAgeMs: number;
}

/**
 * The login-transaction cookie, derived from the session cookie's policy so both follow
 * COOKIE_SECURE alike (name prefix, Secure, HttpOnly, Path=/, no Domain). It differs in two
 * ways: SameSite=Lax, because the provider sends the browser back cross-site and a Strict
 * cookie would not come along; and a Max-Age, the transaction's own lifetime.
 */
export function transactionCookiePolicy(
  session: Pick<AppConfig['session'], 'cookieSecure' | 'cookieSameSite'>,
  ttlSeconds: number,
): TransactionCookiePolicy {
  const base = sessionCookiePolicy(session);
  return {
    name: base.name.replace(/gather_session$/, 'gather_oidc'),
    options: { ...base.options, sameSite: 'lax' },
    maxAgeMs: ttlSeconds * 1000,
  };
}

/** The value of cookie `name` in a Cookie header, if sent (the first one when sent twice). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const pair of (header ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}
