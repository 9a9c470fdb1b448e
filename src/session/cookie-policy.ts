import type { CookieOptions } from 'express';
import type { AppConfig } from '../config/config.schema';

export interface SessionCookiePolicy {
  readonly name: string;
  /** Attributes for setting and for clearing alike; no Max-Age or Expires (a browser-session cookie). */
  readonly options: Readonly<CookieOptions> & { sameSite: 'strict' | 'lax'; secure: boolean };
}

/**
 * Every attribute of the session cookie, decided in one place (docs/contract.md, "Sessions"). The lifetime is
 * enforced server-side, so the cookie itself lasts only as long as the browser session.
 */
export function sessionCookiePolicy(
  session: Pick<AppConfig['session'], 'cookieSecure' | 'cookieSameSite'>,
): SessionCookiePolicy {
  const secure = session.cookieSecure;
  return {
    // `__Host-` makes the browser insist on Secure, Path=/ and no Domain.
    name: secure ? '__Host-gather_session' : 'gather_session',
    options: { httpOnly: true, path: '/', secure, sameSite: session.cookieSameSite },
  };
}
