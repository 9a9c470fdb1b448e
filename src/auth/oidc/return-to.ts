/** Where a login ends when `returnTo` is missing or not a safe same-origin path. */
export const DEFAULT_RETURN_TO = '/';

/** Longer than any path an SPA needs to return to; anything longer is not worth the risk. */
const MAX_LENGTH = 2048;

/** Backslashes (which browsers read as `/`) and C0/DEL control characters (which they drop). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN = /[\\\u0000-\u001f\u007f]/;

/**
 * `returnTo` as given when it is a same-origin relative path, else `/` (docs/contract.md, "Sessions").
 * The checks hold at every level of percent-decoding, so an encoded `//`, `\` or control character
 * does not slip through to a browser or a router that decodes once more.
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_LENGTH) return DEFAULT_RETURN_TO;
  let current = value;
  for (;;) {
    if (!isLocalPath(current)) return DEFAULT_RETURN_TO;
    let decoded: string;
    try {
      decoded = decodeURIComponent(current);
    } catch {
      return DEFAULT_RETURN_TO;
    }
    // Each round that changes anything removes at least two characters, so this ends.
    if (decoded === current) return value;
    current = decoded;
  }
}

/** A single leading `/` rules out a scheme and an authority: a browser stays on this origin. */
function isLocalPath(path: string): boolean {
  return path.startsWith('/') && !path.startsWith('//') && !FORBIDDEN.test(path);
}
