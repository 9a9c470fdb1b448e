import * as oidc from 'openid-client';

/**
 * Whether a failed exchange with the provider means it could not be reached or did not
 * answer properly (503, worth retrying) rather than that it refused or sent something that
 * does not verify (the sign-in fails).
 */
export function providerUnavailable(err: unknown): boolean {
  // fetch rejects with a TypeError when the connection fails.
  if (err instanceof TypeError) return true;
  if (err instanceof oidc.ResponseBodyError) return err.status >= 500;
  return (
    err instanceof oidc.ClientError && (err.code === 'OAUTH_TIMEOUT' || err.code === 'OAUTH_ABORT')
  );
}

/** A log-safe line about a provider error: its kind, code and cause, never a token. */
export function describeProviderError(err: unknown): string {
  if (err instanceof oidc.AuthorizationResponseError) return `authorization error "${err.error}"`;
  if (err instanceof oidc.ResponseBodyError) return `HTTP ${err.status} "${err.error}"`;
  if (!(err instanceof Error)) return String(err);
  const cause = (err.cause as NodeJS.ErrnoException | undefined)?.code;
  const code = (err as { code?: unknown }).code;
  const parts = [err.message, code, cause].filter((part) => typeof part === 'string');
  return [...new Set(parts)].join(' / ');
}
