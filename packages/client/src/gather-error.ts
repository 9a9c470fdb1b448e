import { isRecord } from './is-record.js';
import { retryAfterSeconds } from './retry-after.js';

/** The codes the BFF answers with itself (docs/contract.md, "Error codes"). */
export type BffErrorCode =
  | 'BAD_REQUEST'
  | 'REQUEST_TIMEOUT'
  | 'EXPECTATION_FAILED'
  | 'UNAUTHORIZED'
  | 'INVALID_CREDENTIALS'
  | 'CSRF_REQUIRED'
  | 'FORBIDDEN_ORIGIN'
  | 'ROUTE_NOT_ALLOWED'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'QUOTA_EXCEEDED'
  | 'UPSTREAM_THROTTLED'
  | 'BAD_GATEWAY'
  | 'UPSTREAM_UNAUTHORIZED'
  | 'SERVICE_UNAVAILABLE'
  | 'GATEWAY_TIMEOUT'
  | 'INTERNAL_ERROR';

/**
 * The client's own codes, for failures that never produced an envelope: the BFF could not be
 * reached, or it answered with something that is not the envelope (a proxy's HTML error page).
 */
export type ClientErrorCode = 'NETWORK_ERROR' | 'UNEXPECTED_RESPONSE';

/** Gather passes its own codes through too, so any string is possible; the known ones autocomplete. */
export type GatherErrorCode = BffErrorCode | ClientErrorCode | (string & {});

/** The one error shape of Gather and the BFF. */
export interface ErrorEnvelope {
  error: { code: string; message: string; details?: Record<string, unknown> };
  meta: { requestId: string; timestamp: string };
}

export interface GatherErrorInit {
  status: number;
  code: GatherErrorCode;
  message: string;
  requestId: string | null;
  details?: Readonly<Record<string, unknown>>;
  timestamp?: string | null;
  retryAfterSeconds?: number | null;
}

/**
 * Every failed call, whoever answered it: the BFF's own refusals and Gather's errors passed
 * through arrive in the same envelope, so the app handles one type.
 */
export class GatherError extends Error {
  override readonly name = 'GatherError';
  /** HTTP status; 0 when no answer arrived (NETWORK_ERROR). */
  readonly status: number;
  readonly code: GatherErrorCode;
  /** `meta.requestId`, else the `X-Request-Id` header: quote it when reporting a problem. */
  readonly requestId: string | null;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  /** `meta.timestamp` as sent. */
  readonly timestamp: string | null;
  /** From `Retry-After` (or `details.retryAfterSeconds`) when the answer said when to try again. */
  readonly retryAfterSeconds: number | null;

  constructor(init: GatherErrorInit, options?: ErrorOptions) {
    super(init.message, options);
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.details = init.details;
    this.timestamp = init.timestamp ?? null;
    this.retryAfterSeconds = init.retryAfterSeconds ?? null;
  }
}

/** The envelope in `body`, or undefined when `body` is anything else. */
export function parseEnvelope(body: unknown): ErrorEnvelope | undefined {
  if (!isRecord(body) || !isRecord(body.error) || !isRecord(body.meta)) return undefined;
  const { code, message, details } = body.error;
  const { requestId, timestamp } = body.meta;
  if (typeof code !== 'string' || typeof message !== 'string') return undefined;
  if (details !== undefined && !isRecord(details)) return undefined;
  return {
    error: details === undefined ? { code, message } : { code, message, details },
    meta: {
      requestId: typeof requestId === 'string' ? requestId : '',
      timestamp: typeof timestamp === 'string' ? timestamp : '',
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The GatherError for a non-2xx answer whose body is `text`. */
export function errorFromResponse(res: Response, text: string, now = Date.now()): GatherError {
  const headerId = res.headers.get('X-Request-Id');
  const envelope = parseEnvelope(parseJson(text));
  if (!envelope) {
    return new GatherError({
      status: res.status,
      code: 'UNEXPECTED_RESPONSE',
      message: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} without an error envelope`,
      requestId: headerId,
      retryAfterSeconds: retryAfterSeconds(res.headers.get('Retry-After'), now),
    });
  }
  const { error, meta } = envelope;
  const fromDetails = error.details?.retryAfterSeconds;
  return new GatherError({
    status: res.status,
    code: error.code,
    message: error.message,
    requestId: meta.requestId || headerId,
    details: error.details,
    timestamp: meta.timestamp || null,
    retryAfterSeconds:
      retryAfterSeconds(res.headers.get('Retry-After'), now) ??
      (typeof fromDetails === 'number' && fromDetails >= 0 ? Math.ceil(fromDetails) : null),
  });
}
