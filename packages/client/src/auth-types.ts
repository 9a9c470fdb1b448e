/** The answers of the BFF's `/auth/*` routes (docs/contract.md, "Routes"). */

export interface User {
  /** The username for local users, the ID token's `sub` for OIDC. */
  id: string;
  name: string;
  email: string;
  team: string | null;
}

/** `GET /auth/me`. */
export interface Me {
  user: User;
  /** ISO-8601. */
  session: { expiresAt: string };
}

/** `POST /auth/login`. */
export interface LoginResult {
  user: User;
}

/** `POST /auth/logout` (also with `?everywhere=true`). */
export interface LogoutResult {
  /** The identity provider's end-session URL to send the browser to, or null. */
  logoutUrl: string | null;
}

/** One entry of `GET /auth/sessions`. */
export interface SessionInfo {
  /** An opaque handle for `DELETE /auth/sessions/<id>`; never the cookie's session id. */
  id: string;
  /** ISO-8601. */
  createdAt: string;
  /** ISO-8601. */
  lastSeenAt: string;
  /** The session this browser is using. */
  current: boolean;
  /** The `User-Agent` of the sign-in request, or null. */
  userAgent: string | null;
}
