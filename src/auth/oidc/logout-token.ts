import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { JtiReplay } from './jti-replay';
import { isRecord } from '../../http/is-record';

/** The `events` member a logout token must hold (OpenID Connect Back-Channel Logout 1.0, 2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Replicas' and the provider's clocks may disagree a little: a few seconds, as NTP keeps them. */
export const CLOCK_TOLERANCE_SECONDS = 5;

/**
 * How long past the longest session a `jti` is remembered at most, whatever the token's `exp`:
 * no session it could end outlives that, and a far-future `exp` must not be kept for ever.
 */
export const JTI_MEMORY_PAST_SESSIONS_MS = 24 * 60 * 60 * 1000;

/** Whom a valid logout token signs out: a provider session (`sid`), else a user (`sub`). */
export type LogoutTarget =
  | { readonly sid: string; readonly sub?: string }
  | { readonly sid?: undefined; readonly sub: string };

/** Why a logout token was refused; for the log line, never for the answer. */
export class LogoutTokenError extends Error {
  override readonly name = 'LogoutTokenError';
}

/** A valid logout token: whom it signs out, and its `jti` with how long to remember it once used. */
export interface VerifiedLogoutToken {
  readonly target: LogoutTarget;
  readonly jti: string;
  /** Epoch ms: `exp` (with the clock tolerance), never past JTI_MEMORY_PAST_SESSIONS_MS after the longest session. */
  readonly rememberUntil: number;
}

export interface LogoutTokenOptions {
  readonly issuer: string;
  readonly clientId: string;
  /** The provider's keys (jose's remote JWKS: cached, refreshed on an unknown `kid`). */
  readonly keys: JWTVerifyGetKey;
  readonly replay: JtiReplay;
  /** SESSION_ABSOLUTE_TIMEOUT_SECONDS in ms: no session lives longer. */
  readonly longestSessionMs: number;
  /** Epoch-millisecond clock; tests pass a fake one. */
  readonly now?: () => number;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/**
 * Validates a logout token as OpenID Connect Back-Channel Logout 1.0 (2.6) says: signed by a key
 * of the provider's JWKS, `iss` the provider, `aud` holding the client id, `iat` present and not
 * in the future, `exp` present and not passed, the back-channel logout event, a `sub` or a
 * `sid`, no `nonce`, and a `jti` not recorded as used. Verifying records nothing: the caller
 * records the `jti` (until `rememberUntil`) once the sessions the token ends have ended.
 */
export async function verifyLogoutToken(
  token: string,
  options: LogoutTokenOptions,
): Promise<VerifiedLogoutToken> {
  const now = options.now ?? Date.now;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, options.keys, {
      issuer: options.issuer,
      audience: options.clientId,
      requiredClaims: ['iat', 'exp', 'jti'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(now()),
    }));
  } catch (err) {
    const reason =
      err instanceof errors.JOSEError ? `${err.code}: ${err.message}` : 'cannot be verified';
    throw new LogoutTokenError(`logout token refused (${reason})`);
  }
  const { iat, exp, jti, sub, sid, events } = payload;
  if (typeof iat !== 'number' || iat * 1000 > now() + CLOCK_TOLERANCE_SECONDS * 1000) {
    throw new LogoutTokenError('logout token refused (iat in the future)');
  }
  if (!isRecord(events) || !isRecord(events[BACKCHANNEL_LOGOUT_EVENT])) {
    throw new LogoutTokenError('logout token refused (no back-channel logout event)');
  }
  if (Object.hasOwn(payload, 'nonce')) {
    throw new LogoutTokenError('logout token refused (it holds a nonce)');
  }
  const target = text(sid) ?? text(sub);
  if (target === undefined) throw new LogoutTokenError('logout token refused (no sub or sid)');
  if (text(jti) === undefined) throw new LogoutTokenError('logout token refused (no jti)');
  if (await options.replay.used(options.issuer, jti as string)) {
    throw new LogoutTokenError('logout token refused (replayed jti)');
  }
  const rememberUntil = Math.min(
    (exp as number) * 1000 + CLOCK_TOLERANCE_SECONDS * 1000,
    now() + options.longestSessionMs + JTI_MEMORY_PAST_SESSIONS_MS,
  );
  return { target: targetOf(text(sid), text(sub)), jti: jti as string, rememberUntil };
}

function targetOf(sid: string | undefined, sub: string | undefined): LogoutTarget {
  if (sid !== undefined) return sub === undefined ? { sid } : { sid, sub };
  return { sub: sub as string };
}
