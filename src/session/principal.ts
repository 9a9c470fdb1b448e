/** How a user signed in: local users and OIDC users are different people, whatever their ids. */
export type PrincipalKind = 'local' | 'oidc';

export const PRINCIPAL_KINDS: readonly PrincipalKind[] = ['local', 'oidc'];

/**
 * Whom the BFF counts and keys things by: `local:<username>` or `oidc:<sub>`. The user id alone
 * (what /auth/me shows) is not enough: a username may equal an OIDC `sub`. Everything per user
 * keys on this: the session index, the per-user rate limits, the other-tabs rule, and any later
 * per-user store (docs/architecture.md, "Principals"). Only the admin routes go by the bare id.
 */
export type Principal = `${PrincipalKind}:${string}`;

export function principalOf(kind: PrincipalKind, userId: string): Principal {
  return `${kind}:${userId}`;
}

export function principalKind(principal: Principal): PrincipalKind {
  return principal.startsWith('oidc:') ? 'oidc' : 'local';
}
