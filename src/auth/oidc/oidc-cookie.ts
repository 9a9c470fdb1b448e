import type { AppConfig } from '../../config/config.schema';
import { bffCookies, type TransactionCookiePolicy } from '../../session/cookie-policy';

export type { TransactionCookiePolicy };

/** The login-transaction cookie's row of the BFF's cookie table (session/cookie-policy.ts). */
export function transactionCookiePolicy(
  session: Pick<AppConfig['session'], 'cookieSecure' | 'cookieSameSite'>,
  ttlSeconds: number,
): TransactionCookiePolicy {
  return bffCookies(session, ttlSeconds).transaction;
}
