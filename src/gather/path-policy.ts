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

// Raw control characters, DEL and backslash never belong in a path.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_FORBIDDEN = /[\x00-\x1f\x7f\\]/;
// After one decoding, these mean a hidden separator, control character or a second encoding layer.
const ENCODED_FORBIDDEN = /%(?:2f|5c|25|[01][0-9a-f]|7f)/i;
const BAD_PERCENT = /%(?![0-9a-f]{2})/i;
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;

const reject = (why: string): never => {
  throw new BffError('BAD_REQUEST', `Invalid path: ${why}`);
};

/**
 * Checks a raw request target under `/api/gather/` and returns what to forward. Gather must see
 * exactly the resource the allow-list and rate limits judged, so anything a server could resolve
 * to another path (dot segments, encoded separators, double encoding) is refused, not normalised.
 */
export function upstreamTarget(rawUrl: string): UpstreamTarget {
  if (!rawUrl.startsWith(`${PROXY_PREFIX}/`)) reject('not under the proxy prefix');
  const q = rawUrl.indexOf('?');
  const path = rawUrl.slice(PROXY_PREFIX.length, q === -1 ? undefined : q);
  const search = q === -1 ? '' : rawUrl.slice(q);
  if (RAW_FORBIDDEN.test(path)) reject('control character or backslash');
  if (BAD_PERCENT.test(path)) reject('malformed percent-encoding');
  if (ENCODED_FORBIDDEN.test(path))
    reject('encoded separator, control character or double encoding');
  if (DOT_SEGMENT.test(path)) reject('dot segment');
  if (path.includes('//')) reject('empty segment');
  if (RAW_FORBIDDEN.test(search)) reject('control character in query');
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
