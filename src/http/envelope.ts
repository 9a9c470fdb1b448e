import type { ServerResponse } from 'node:http';
import type { BffError } from './error-codes';

/** Gather's error shape, which the BFF's own errors share (docs/contract.md, "Error envelope"). */
export interface ErrorEnvelope {
  error: { code: string; message: string; details?: Record<string, unknown> };
  meta: { requestId: string; timestamp: string };
}

/** `timestamp` is kept as given when the envelope carries Gather's own (UPSTREAM_UNAUTHORIZED). */
export function envelopeOf(
  err: BffError,
  requestId: string,
  timestamp = new Date().toISOString(),
): ErrorEnvelope {
  const error: ErrorEnvelope['error'] = { code: err.code, message: err.message };
  if (err.details) error.details = err.details;
  return { error, meta: { requestId, timestamp } };
}

/**
 * Answers that are the BFF's own, expected refusals (every code but INTERNAL_ERROR: a store that
 * does not answer, Gather unreachable, a limit): their request lines are warnings without a
 * stack, not errors (docs/contract.md, "Health and metrics").
 */
const refusals = new WeakSet<ServerResponse>();

export const isRefusal = (res: ServerResponse): boolean => refusals.has(res);

/** The level of a request's one log line, from its status and whether it was a refusal. */
export function requestLogLevel(res: ServerResponse): 'error' | 'warn' | 'info' {
  if (res.statusCode >= 500 && !isRefusal(res)) return 'error';
  return res.statusCode >= 400 ? 'warn' : 'info';
}

/**
 * Writes the envelope on a plain Node response: the one writer behind the Nest filter, the
 * proxy's upstream errors and the server's client-error hook.
 */
export function sendError(
  res: ServerResponse,
  requestId: string,
  err: BffError,
  timestamp?: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(envelopeOf(err, requestId, timestamp));
  for (const name of res.getHeaderNames()) {
    // Headers a handler set for a success (content type, upstream ones) do not belong on an
    // error; the security policy (also `content-`) does.
    if (
      (name.startsWith('content-') && !name.startsWith('content-security-policy')) ||
      name === 'etag' ||
      name === 'last-modified'
    )
      res.removeHeader(name);
  }
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  res.statusCode = err.status;
  if (err.code !== 'INTERNAL_ERROR') refusals.add(res);
  res.setHeader('X-Request-Id', requestId);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}
