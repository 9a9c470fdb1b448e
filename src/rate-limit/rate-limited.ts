import { BffError } from '../http/error-codes';

/** The 429 (docs/contract.md, "Rate limits"): `Retry-After` and `details.retryAfterSeconds` carry the same whole seconds. */
export function rateLimited(retryAfterSeconds: number): BffError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new BffError(
    'RATE_LIMITED',
    'Too many requests',
    { retryAfterSeconds: seconds },
    { 'Retry-After': String(seconds) },
  );
}
