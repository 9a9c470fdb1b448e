import type { Principal } from './principal';

/** Who a user is, as a sign-in method vouches for them: what the BFF shows on /auth/me. */
export interface SessionUser {
  id: string;
  name: string;
  email: string;
  team?: string;
}

/** Who a session belongs to: the user, and the principal rate limits and indexes key by. */
export interface SignedInUser extends SessionUser {
  principal: Principal;
}

/** What a replica remembers of a session it read: whom its calls count for, ahead of the next read. */
export type KnownUser = Pick<SignedInUser, 'principal' | 'team'>;

declare module 'express-session' {
  interface SessionData {
    user?: SignedInUser;
    /** Epoch milliseconds of the login; the absolute timeout counts from here. */
    createdAt?: number;
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

/**
 * The user of a session unless it has none, its absolute timeout has passed at `now`, or it was
 * started before sessions named their principal (such a session signs in again).
 */
export function liveUser(
  data: { user?: SignedInUser; createdAt?: number } | undefined,
  absoluteMs: number,
  now: number,
): SignedInUser | undefined {
  const { user, createdAt } = data ?? {};
  if (!user || typeof createdAt !== 'number' || typeof user.principal !== 'string')
    return undefined;
  return now < createdAt + absoluteMs ? user : undefined;
}
