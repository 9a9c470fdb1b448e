import { BffError } from '../http/error-codes';

export const PROXY_PREFIX = '/api/gather';

/** Methods the proxy forwards; anything else (TRACE, CONNECT, OPTIONS, WebDAV…) is 405. */
export const FORWARDED_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
]);

/** The part of a browser request that goes to Gather, still percent-encoded as received. */
export interface UpstreamTarget {
  /** Path below the Gather base URL, starting with `/`. */
  readonly path: string;
  /** `?…` exactly as the browser sent it, or empty. */
  readonly search: string;
}

// Raw control characters, DEL, backslash, `#` and `;` never belong in a path: `;` starts a path
// parameter that Tomcat, Spring and Jetty strip before routing (`/a/..;/b` resolves to `/b`).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_FORBIDDEN = /[\x00-\x1f\x7f\\#;]/;
// eslint-disable-next-line no-control-regex -- as above, for the query (where `;` is data)
const RAW_FORBIDDEN_IN_QUERY = /[\x00-\x1f\x7f#]/;
// After one decoding, these mean a hidden separator, control character or a second encoding layer.
const ENCODED_FORBIDDEN = /%(?:2f|5c|25|[01][0-9a-f]|7f)/i;
// Unreserved characters (RFC 3986 §2.3) have one spelling: `%71` for `q` would let the same
// resource pass the allow-list and route limits under a name they do not know.
const ENCODED_UNRESERVED = /%(?:3[0-9]|[46][1-9a-f]|[57][0-9a]|2[de]|5f|7e)/i;
const BAD_PERCENT = /%(?![0-9a-f]{2})/i;
const DOT_SEGMENT = /(?:^|\/)\.{1,2}(?:\/|$)/;

const decodesAsUtf8 = (encoded: string): boolean => {
  try {
    decodeURIComponent(encoded);
    return true;
  } catch {
    return false;
  }
};

const reject = (why: string): never => {
  throw new BffError('BAD_REQUEST', `Invalid path: ${why}`);
};

/**
 * Checks a raw request target under `/api/gather/` and returns what to forward. Gather must see
 * exactly the resource the allow-list and rate limits judged, so anything a server could resolve
 * to another path or that names a path in a second spelling (dot segments, `;` parameters,
 * encoded separators or unreserved characters, double encoding) is refused, not normalised
 * (docs/contract.md, "Error codes").
 */
export function upstreamTarget(rawUrl: string): UpstreamTarget {
  if (!rawUrl.startsWith(`${PROXY_PREFIX}/`)) reject('not under the proxy prefix');
  const q = rawUrl.indexOf('?');
  const path = rawUrl.slice(PROXY_PREFIX.length, q === -1 ? undefined : q);
  const search = q === -1 ? '' : rawUrl.slice(q);
  if (RAW_FORBIDDEN.test(path)) reject('control character, backslash, # or ; parameter');
  if (BAD_PERCENT.test(path)) reject('malformed percent-encoding');
  // Overlong forms (`%C0%AE` for `.`) are how lenient decoders were walked out of their roots.
  if (path.includes('%') && !decodesAsUtf8(path)) reject('percent-encoding that is not UTF-8');
  if (ENCODED_FORBIDDEN.test(path))
    reject('encoded separator, control character or double encoding');
  if (ENCODED_UNRESERVED.test(path)) reject('percent-encoded unreserved character');
  if (DOT_SEGMENT.test(path)) reject('dot segment');
  if (path.includes('//')) reject('empty segment');
  if (RAW_FORBIDDEN_IN_QUERY.test(search)) reject('control character or # in query');
  return { path, search };
}

/** 405 for methods the proxy never forwards; runs with the path checks, before anything else. */
export function assertForwardedMethod(method: string): void {
  if (!FORWARDED_METHODS.has(method)) {
    throw new BffError('METHOD_NOT_ALLOWED', `Method ${method} is not forwarded`, undefined, {
      Allow: [...FORWARDED_METHODS].join(', '),
    });
  }
}
