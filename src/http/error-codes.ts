/** Every code the BFF itself answers with, and its status (docs/contract.md, "Error codes"). */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  REQUEST_TIMEOUT: 408,
  EXPECTATION_FAILED: 417,
  UNAUTHORIZED: 401,
  INVALID_CREDENTIALS: 401,
  CSRF_REQUIRED: 403,
  FORBIDDEN_ORIGIN: 403,
  ROUTE_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  /** Or 503: the status Gather asked the BFF to wait with (see upstreamThrottled). */
  UPSTREAM_THROTTLED: 429,
  INTERNAL_ERROR: 500,
  BAD_GATEWAY: 502,
  UPSTREAM_UNAUTHORIZED: 502,
  SERVICE_UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

const DEFAULT_MESSAGE: Record<ErrorCode, string> = {
  BAD_REQUEST: 'Malformed request',
  REQUEST_TIMEOUT: 'The request was not sent in time',
  EXPECTATION_FAILED: 'Only Expect: 100-continue is understood',
  UNAUTHORIZED: 'Authentication required',
  INVALID_CREDENTIALS: 'Invalid username or password',
  CSRF_REQUIRED: 'Missing X-CSRF header',
  FORBIDDEN_ORIGIN: 'Origin not allowed',
  ROUTE_NOT_ALLOWED: 'Route not allowed',
  NOT_FOUND: 'Not found',
  METHOD_NOT_ALLOWED: 'Method not allowed',
  PAYLOAD_TOO_LARGE: 'Request body too large',
  RATE_LIMITED: 'Too many requests',
  QUOTA_EXCEEDED: 'Quota used up',
  UPSTREAM_THROTTLED: 'Gather asked to wait before the next call',
  INTERNAL_ERROR: 'Internal error',
  BAD_GATEWAY: 'Gather could not be reached',
  UPSTREAM_UNAUTHORIZED: "Gather rejected the server's API key",
  SERVICE_UNAVAILABLE: 'Service unavailable',
  GATEWAY_TIMEOUT: 'Gather did not answer in time',
};

/**
 * An error the BFF answers with itself. Thrown anywhere in a request; the global filter (or
 * `sendError` outside Nest) turns it into the envelope.
 */
export class BffError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string = DEFAULT_MESSAGE[code],
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
    status: number = ERROR_STATUS[code],
  ) {
    super(message);
    this.name = 'BffError';
    this.status = status;
  }
}
