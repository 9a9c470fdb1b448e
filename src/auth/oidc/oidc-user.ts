import type { SessionUser } from '../../session/session-user';

/** Claims as the provider sends them: in the ID token or from the userinfo endpoint. */
export type Claims = Readonly<Record<string, unknown>>;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** A team claim: a string, or the first entry of a list (groups, roles). */
const teamOf = (value: unknown): string | undefined =>
  Array.isArray(value) ? text(value[0]) : text(value);

/**
 * Whether the ID token lacks something the session user is made of, so the userinfo endpoint
 * must be asked (many providers put profile and email claims only there).
 */
export function needsUserInfo(idToken: Claims, teamClaim: string | undefined): boolean {
  return (
    text(idToken.name) === undefined ||
    text(idToken.email) === undefined ||
    (teamClaim !== undefined && teamOf(idToken[teamClaim]) === undefined)
  );
}

/**
 * The session user of an OIDC login: id = `sub`; name = `name`, else `preferred_username`,
 * else `sub`; email = `email` (empty when the provider has none); team = the claim named by
 * OIDC_TEAM_CLAIM. Each comes from the ID token first, then from userinfo, whose `sub` the
 * caller has matched against the ID token's.
 */
export function sessionUserFromClaims(
  idToken: Claims & { sub: string },
  userInfo: Claims | undefined,
  teamClaim: string | undefined,
): SessionUser {
  const claim = (name: string, read = text): string | undefined =>
    read(idToken[name]) ?? read(userInfo?.[name]);
  const user: SessionUser = {
    id: idToken.sub,
    name: claim('name') ?? claim('preferred_username') ?? idToken.sub,
    email: claim('email') ?? '',
  };
  const team = teamClaim === undefined ? undefined : claim(teamClaim, teamOf);
  return team === undefined ? user : { ...user, team };
}
