/** Who a session belongs to: what the BFF shows on /auth/me and keys rate limits and team keys by. */
export interface SessionUser {
  id: string;
  name: string;
  email: string;
  team?: string;
}

declare module 'express-session' {
  interface SessionData {
    user?: SessionUser;
    /** Epoch milliseconds of the login; the absolute timeout counts from here. */
    createdAt?: number;
    /** The provider's ID token of an OIDC login: the logout hint; never sent to the browser. */
    idToken?: string;
    /** The sign-in request's `User-Agent` as sent, or null: shown in the session list. */
    userAgent?: string | null;
    /** The provider's session (the ID token's `sid`): what a back-channel logout names. */
    providerSid?: string;
    /** The provider's refresh token, sealed (session/token-seal.ts); never sent to the browser. */
    refreshToken?: string;
    /** Epoch milliseconds of the last provider re-check (or of the sign-in). */
    checkedAt?: number;
  }
}

/** The user of a session unless it has none or its absolute timeout has passed at `now`. */
export function liveUser(
  data: { user?: SessionUser; createdAt?: number } | undefined,
  absoluteMs: number,
  now: number,
): SessionUser | undefined {
  const { user, createdAt } = data ?? {};
  if (!user || typeof createdAt !== 'number') return undefined;
  return now < createdAt + absoluteMs ? user : undefined;
}
