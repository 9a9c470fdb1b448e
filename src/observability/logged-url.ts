/** At most this many rounds of percent-decoding (`%2561` → `%61` → `a`) before judging a path. */
const DECODE_ROUNDS = 3;

/** Drops an absolute-form target's scheme and authority (`http://host/auth/x` → `/auth/x`). */
const ABSOLUTE_FORM = /^[a-z][a-z\d+.-]*:\/\/[^/?]*/i;

/** A path that cannot name /auth however it is decoded: the common case, judged in one test. */
const MAY_NAME_AUTH = /auth|%/i;

/**
 * A request target as it may be logged: the query of any path under /auth is replaced, however
 * the path is spelled (case, repeated or trailing slashes, backslashes, dot segments, `;`
 * parameters, percent-encoding, absolute form). What is redacted is decided by what the value
 * is (an /auth query carries authorization codes, states and tokens), not by one spelling of
 * one route (docs/contract.md, Sessions: "Security events").
 */
export function loggedUrl(url: string): string {
  const query = url.indexOf('?');
  if (query === -1) return url;
  const path = url.slice(0, query);
  return MAY_NAME_AUTH.test(path) && underAuth(path) ? `${path}?[redacted]` : url;
}

function underAuth(target: string): boolean {
  let path = target.replace(ABSOLUTE_FORM, '');
  for (let round = 0; round < DECODE_ROUNDS && path.includes('%'); round++) {
    try {
      path = decodeURIComponent(path);
    } catch {
      break;
    }
  }
  const segments: string[] = [];
  for (const raw of path.replace(/\\/g, '/').toLowerCase().split('/')) {
    const segment = raw.split(';', 1)[0]?.trim() ?? '';
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return segments[0] === 'auth';
}
