import type { IncomingHttpHeaders } from 'node:http';
import { BffError } from '../http/error-codes';

/**
 * The cross-site defences of state-changing routes, in the contract's order (docs/contract.md,
 * "Check order"): the origin first (a foreign `Origin`, or a browser saying
 * `Sec-Fetch-Site: cross-site`), then the `X-CSRF` header, which a cross-site form or simple
 * request cannot send. Shared by the `/auth` middleware and the proxied path.
 */
export function checkRequestOrigin(
  headers: IncomingHttpHeaders,
  allowedOrigins: ReadonlySet<string>,
): void {
  const origin = headers.origin;
  if (origin !== undefined && !allowedOrigins.has(origin)) throw new BffError('FORBIDDEN_ORIGIN');
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site.toLowerCase() === 'cross-site') {
    throw new BffError('FORBIDDEN_ORIGIN');
  }
  const csrf = headers['x-csrf'];
  if (typeof csrf !== 'string' || csrf === '') throw new BffError('CSRF_REQUIRED');
}
