import { parse } from 'cookie';
import { unsign } from 'cookie-signature';
import { LRUCache } from 'lru-cache';

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

/**
 * `signedSessionId` for one cookie name and secret list, remembering the Cookie headers it
 * verified: a browser sends the same header on every call, and the HMAC is the proxied path's
 * dearest check. Only verified headers are kept (nobody can fill the memory with forgeries), and
 * at most `maxBytes` of them; a session that has ended is still refused by the store.
 */
export function sessionIdReader(
  name: string,
  secrets: readonly string[],
  maxBytes = 4 * 1024 * 1024,
): (cookieHeader: string | undefined) => string | undefined {
  const verified = new LRUCache<string, string>({
    maxSize: maxBytes,
    sizeCalculation: (sid, header) => header.length + sid.length,
  });
  return (cookieHeader) => {
    if (cookieHeader === undefined) return undefined;
    const known = verified.get(cookieHeader);
    if (known !== undefined) return known;
    const sid = signedSessionId(cookieHeader, name, secrets);
    if (sid !== undefined) verified.set(cookieHeader, sid);
    return sid;
  };
}
