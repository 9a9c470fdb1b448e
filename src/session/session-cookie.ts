import { parse } from 'cookie';
import { unsign } from 'cookie-signature';

/**
 * The session id in a `Cookie` header, if its signature verifies with one of `secrets` (the
 * first signs, every one verifies, so a rotation logs nobody out). The format is
 * express-session's (`s:<id>.<signature>`), so a cookie set by the login routes is read here
 * without express-session, whose per-request work the proxied path does not need.
 */
export function signedSessionId(
  cookieHeader: string | undefined,
  name: string,
  secrets: readonly string[],
): string | undefined {
  if (cookieHeader === undefined) return undefined;
  const value = parse(cookieHeader)[name];
  if (value === undefined || !value.startsWith('s:')) return undefined;
  const signed = value.slice(2);
  for (const secret of secrets) {
    const id = unsign(signed, secret);
    if (id !== false) return id;
  }
  return undefined;
}
