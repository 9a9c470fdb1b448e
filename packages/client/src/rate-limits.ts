import { parseList, type Parameters } from 'structured-headers';

/** What the BFF's (and Gather's) `RateLimit-Policy` and `RateLimit` say of one policy. */
export interface RateLimitState {
  /** `q`: how many the policy allows per window; null when `RateLimit-Policy` did not say. */
  limit: number | null;
  /** `w`: the window in seconds; null when not said. */
  windowSeconds: number | null;
  /** `r`: how many are left; null when `RateLimit` did not say. */
  remaining: number | null;
  /** `t`: seconds until the policy renews; null when not said. */
  resetsIn: number | null;
}

const numberParam = (params: Parameters, name: string): number | null => {
  const value = params.get(name) as unknown;
  return typeof value === 'number' ? value : null;
};

function readList(value: string | null): ReturnType<typeof parseList> {
  if (value === null) return [];
  try {
    return parseList(value);
  } catch {
    // A field that does not parse says nothing (RFC 9651: the whole field is ignored).
    return [];
  }
}

/**
 * The rate-limit state an answer carries, by policy name (`"user"`, `"user-day"`, `"login"`,
 * Gather's own …), read from the structured-field lists `RateLimit-Policy` and `RateLimit`
 * (draft-ietf-httpapi-ratelimit-headers). Empty when the answer has neither.
 */
export function rateLimits(headers: Headers): Record<string, RateLimitState> {
  const out: Record<string, RateLimitState> = {};
  const stateOf = (name: string): RateLimitState =>
    (out[name] ??= { limit: null, windowSeconds: null, remaining: null, resetsIn: null });
  for (const [name, params] of readList(headers.get('RateLimit-Policy'))) {
    if (typeof name !== 'string') continue;
    const state = stateOf(name);
    state.limit = numberParam(params, 'q');
    state.windowSeconds = numberParam(params, 'w');
  }
  for (const [name, params] of readList(headers.get('RateLimit'))) {
    if (typeof name !== 'string') continue;
    const state = stateOf(name);
    state.remaining = numberParam(params, 'r');
    state.resetsIn = numberParam(params, 't');
  }
  return out;
}
