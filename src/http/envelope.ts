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
  res.setHeader('X-Request-Id', requestId);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}
