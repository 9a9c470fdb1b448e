import type { LoginResult, LogoutResult, Me, SessionInfo } from './auth-types.js';
import { errorFromResponse, GatherError } from './gather-error.js';
import { rateLimits, type RateLimitState } from './rate-limits.js';
import { holdUntil, whenOpen } from './throttle-gate.js';

/** `fetch` or a stand-in with its signature (tests, server-side rendering). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/**
 * Opt-in patience with `429` answers (`RATE_LIMITED`, Gather's own) and `UPSTREAM_THROTTLED`
 * (`429` or `503`): both caps are required so the worst case is explicit. One wait for the whole
 * tab: while one call waits out a `Retry-After`, every call of every client that opted in holds
 * until the same moment, on one timer, rather than each trying again on its own.
 */
export interface RateLimitRetry {
  /** Retries per call after the first attempt. */
  maxRetries: number;
  /** A `Retry-After` longer than this fails at once instead of waiting. */
  maxWaitSeconds: number;
}

/** What one HTTP answer looked like, for a call log or metrics. */
export interface ResponseRecord {
  method: string;
  /** The URL as requested, relative to the page when `baseUrl` is. */
  url: string;
  status: number;
  requestId: string | null;
  /** From sending the request to having read the whole answer. */
  durationMs: number;
  /** Set when the answer was an error. */
  error?: GatherError;
}

export interface GatherClientOptions {
  /** Where the BFF is mounted, as the page sees it: '' (the default) is the page's own origin. */
  baseUrl?: string;
  /**
   * Called on `401 UNAUTHORIZED` (no, expired or ended session), before that error is thrown:
   * the place to send the user to sign in. Not called for `INVALID_CREDENTIALS` or for
   * `502 UPSTREAM_UNAUTHORIZED` (the server's key was refused, not the user's session).
   */
  onUnauthorized?: (error: GatherError) => void;
  /** Wait out `429 Retry-After` and `UPSTREAM_THROTTLED` and try again; off unless given. */
  rateLimitRetry?: RateLimitRetry;
  /** Called once per HTTP answer, retries included. */
  onResponse?: (record: ResponseRecord) => void;
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
}

/** A body that can be sent again when a 429 is retried (a stream cannot). */
export type ReplayableBody = Exclude<BodyInit, ReadableStream>;

export interface CallOptions {
  signal?: AbortSignal;
}

export interface RequestOptions extends CallOptions {
  method?: string;
  /** Appended as a query string; undefined values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON with `Content-Type: application/json`. */
  json?: unknown;
  /** Sent as is, when `json` is not given. */
  body?: ReplayableBody;
  headers?: Record<string, string>;
}

export interface GatherResponse<T> {
  /** Parsed JSON, the text of any other body, or undefined when there is none. */
  data: T;
  status: number;
  requestId: string | null;
  headers: Headers;
  /** `RateLimit-Policy` and `RateLimit` by policy name (`remaining`, `resetsIn`, …). */
  rateLimits: Record<string, RateLimitState>;
}

export interface GatherClient {
  /** Any BFF route, e.g. `/auth/me`; `path` must start with a single `/`. */
  request<T = unknown>(path: string, options?: RequestOptions): Promise<GatherResponse<T>>;
  /** Gather through the BFF: `gather('/questions')` calls `/api/gather/questions`. */
  gather<T = unknown>(path: string, options?: RequestOptions): Promise<GatherResponse<T>>;
  /** Local sign-in (`POST /auth/login`); a fresh session cookie on success. */
  login(username: string, password: string, options?: CallOptions): Promise<LoginResult>;
  /** The signed-in user; `401 UNAUTHORIZED` without a session. */
  me(options?: CallOptions): Promise<Me>;
  /** Ends this session; send the browser to `logoutUrl` when it is not null. */
  logout(options?: CallOptions): Promise<LogoutResult>;
  /** Ends every session of the signed-in user, on every device. */
  logoutEverywhere(options?: CallOptions): Promise<LogoutResult>;
  /** The signed-in user's live sessions. */
  sessions(options?: CallOptions): Promise<SessionInfo[]>;
  /** Ends one of them by its `id`; `404 NOT_FOUND` when it is not the user's. */
  endSession(id: string, options?: CallOptions): Promise<void>;
}

const clock = (): number => globalThis.performance?.now() ?? Date.now();

/**
 * A segment that fetch (`.`, `..` and their `%2e` spellings, per the URL standard) or a server
 * (`..;`, `.;x`) resolves against its neighbours, or a backslash, which some servers take for
 * `/`: either would send the call, with `X-CSRF`, to another route than the one named.
 */
const CLIMBING = /(^|\/)(\.|%2e){1,2}(;[^/]*)?(\/|$)|\\|%5c/i;

function buildUrl(baseUrl: string, path: string, query: RequestOptions['query']): string {
  // Relative paths only: the session cookie and X-CSRF must never go to another origin.
  if (!path.startsWith('/') || path.startsWith('//') || path.startsWith('/\\')) {
    throw new TypeError(`path must start with a single "/": ${JSON.stringify(path)}`);
  }
  if (CLIMBING.test(path.split(/[?#]/, 1)[0] as string)) {
    throw new TypeError(
      `path must not hold dot segments (".", "..", raw or percent-encoded) or a backslash: ${JSON.stringify(path)}`,
    );
  }
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined) params.append(name, String(value));
  }
  const search = params.toString();
  return `${baseUrl}${path}${search ? `?${search}` : ''}`;
}

function buildInit(options: RequestOptions): RequestInit {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  let body: BodyInit | undefined = options.body;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  // The BFF's CSRF check: a header a cross-site form or image cannot add.
  headers['X-CSRF'] = '1';
  return {
    method: options.method ?? 'GET',
    headers,
    body,
    // The BFF serves the page (SameSite=Strict, host-only cookie, no CORS): the session cookie
    // belongs to this origin only, and must not follow a request anywhere else.
    credentials: 'same-origin',
  };
}

function readData(res: Response, text: string): unknown {
  if (text === '') return undefined;
  if (!/[/+]json\b/i.test(res.headers.get('Content-Type') ?? '')) return text;
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new GatherError(
      {
        status: res.status,
        code: 'UNEXPECTED_RESPONSE',
        message: `HTTP ${res.status} with a body that is not the JSON it announced`,
        requestId: res.headers.get('X-Request-Id'),
      },
      { cause },
    );
  }
}

/**
 * A `fetch` wrapper for single-page apps behind the Gather BFF: `X-CSRF` and the session cookie
 * on every call, every error as one typed `GatherError`, the sign-in callback on an ended
 * session, and (opt-in) patience with `429 Retry-After`. `AbortSignal` aborts a
 * call at any point, including while it waits to retry.
 */
export function createGatherClient(options: GatherClientOptions = {}): GatherClient {
  const baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
  // Called as a plain function: window.fetch refuses any other `this`.
  const send: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  async function attempt(url: string, init: RequestInit): Promise<GatherResponse<unknown>> {
    const method = init.method ?? 'GET';
    const started = clock();
    let res: Response;
    let text: string;
    try {
      res = await send(url, init);
      text = await res.text();
    } catch (cause) {
      if (init.signal?.aborted) throw init.signal.reason;
      throw new GatherError(
        {
          status: 0,
          code: 'NETWORK_ERROR',
          message: 'The BFF could not be reached',
          requestId: null,
        },
        { cause },
      );
    }
    const record = { method, url, status: res.status, requestId: res.headers.get('X-Request-Id') };
    if (!res.ok) {
      const error = errorFromResponse(res, text);
      options.onResponse?.({
        ...record,
        requestId: error.requestId,
        durationMs: clock() - started,
        error,
      });
      throw error;
    }
    options.onResponse?.({ ...record, durationMs: clock() - started });
    return {
      data: readData(res, text),
      status: res.status,
      requestId: record.requestId,
      headers: res.headers,
      rateLimits: rateLimits(res.headers),
    };
  }

  async function request<T>(path: string, req: RequestOptions = {}): Promise<GatherResponse<T>> {
    const url = buildUrl(baseUrl, path, req.query);
    const init: RequestInit = { ...buildInit(req), signal: req.signal };
    const retry = options.rateLimitRetry;
    for (let retries = 0; ; retries++) {
      req.signal?.throwIfAborted();
      if (retry !== undefined) await whenOpen(req.signal);
      try {
        return (await attempt(url, init)) as GatherResponse<T>;
      } catch (err) {
        if (!(err instanceof GatherError)) throw err;
        if (err.status === 401 && err.code === 'UNAUTHORIZED') options.onUnauthorized?.(err);
        const after = err.retryAfterSeconds;
        const retryable =
          (err.status === 429 || (err.status === 503 && err.code === 'UPSTREAM_THROTTLED')) &&
          retry !== undefined &&
          retries < retry.maxRetries &&
          after !== null &&
          after <= retry.maxWaitSeconds;
        if (!retryable) throw err;
        holdUntil(Date.now() + after * 1000);
      }
    }
  }

  const data = async <T>(path: string, req: RequestOptions): Promise<T> =>
    (await request<T>(path, req)).data;

  return {
    request,
    gather: (path, req) => {
      if (!path.startsWith('/')) {
        return Promise.reject(new TypeError(`path must start with "/": ${JSON.stringify(path)}`));
      }
      return request(`/api/gather${path}`, req);
    },
    login: (username, password, call = {}) =>
      data('/auth/login', { ...call, method: 'POST', json: { username, password } }),
    me: (call = {}) => data('/auth/me', call),
    logout: (call = {}) => data('/auth/logout', { ...call, method: 'POST' }),
    logoutEverywhere: (call = {}) =>
      data('/auth/logout', { ...call, method: 'POST', query: { everywhere: true } }),
    sessions: async (call = {}) =>
      (await data<{ sessions: SessionInfo[] }>('/auth/sessions', call)).sessions,
    endSession: async (id, call = {}) => {
      await request(`/auth/sessions/${encodeURIComponent(id)}`, { ...call, method: 'DELETE' });
    },
  };
}
