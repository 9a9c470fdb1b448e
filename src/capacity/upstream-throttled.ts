import { BffError } from '../http/error-codes';

/**
 * The refusal while a key is paused (docs/contract.md, "Error codes"): the status Gather asked
 * with, `Retry-After` and `details.retryAfterSeconds` the seconds left rounded up (at least 1).
 */
export function upstreamThrottled(msLeft: number, upstreamStatus: number): BffError {
  const seconds = Math.max(1, Math.ceil(msLeft / 1000));
  return new BffError(
    'UPSTREAM_THROTTLED',
    undefined,
    { retryAfterSeconds: seconds, upstreamStatus },
    { 'Retry-After': String(seconds) },
    upstreamStatus,
  );
}
