import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { JtiReplay } from './jti-replay';

/** The `events` member a logout token must hold (OpenID Connect Back-Channel Logout 1.0, 2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Replicas' and the provider's clocks may disagree a little: a few seconds, as NTP keeps them. */
export const CLOCK_TOLERANCE_SECONDS = 5;

/** Whom a valid logout token signs out: a provider session (`sid`), else a user (`sub`). */
export type LogoutTarget =
  | { readonly sid: string; readonly sub?: string }
  | { readonly sid?: undefined; readonly sub: string };

/** Why a logout token was refused; for the log line, never for the answer. */
export class LogoutTokenError extends Error {
  override readonly name = 'LogoutTokenError';
}

export interface LogoutTokenOptions {
  readonly issuer: string;
  readonly clientId: string;
  /** The provider's keys (jose's remote JWKS: cached, refreshed on an unknown `kid`). */
  readonly keys: JWTVerifyGetKey;
  readonly replay: JtiReplay;
  /** Epoch-millisecond clock; tests pass a fake one. */
  readonly now?: () => number;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Validates a logout token as OpenID Connect Back-Channel Logout 1.0 (2.6) says: signed by a key
 * of the provider's JWKS, `iss` the provider, `aud` holding the client id, `iat` present and not
 * in the future, `exp` present and not passed, the back-channel logout event, a `sub` or a
 * `sid`, no `nonce`, and a `jti` never seen before (remembered until `exp`). The replay check
 * comes last, so a token refused for any other reason is not remembered.
 */
export async function verifyLogoutToken(
  token: string,
  options: LogoutTokenOptions,
): Promise<LogoutTarget> {
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
  if (!isObject(events) || !isObject(events[BACKCHANNEL_LOGOUT_EVENT])) {
    throw new LogoutTokenError('logout token refused (no back-channel logout event)');
  }
  if (Object.hasOwn(payload, 'nonce')) {
    throw new LogoutTokenError('logout token refused (it holds a nonce)');
  }
  const target = text(sid) ?? text(sub);
  if (target === undefined) throw new LogoutTokenError('logout token refused (no sub or sid)');
  if (text(jti) === undefined) throw new LogoutTokenError('logout token refused (no jti)');
  const until = (exp as number) * 1000 + CLOCK_TOLERANCE_SECONDS * 1000;
  if (!(await options.replay.firstUse(options.issuer, jti as string, until))) {
    throw new LogoutTokenError('logout token refused (replayed jti)');
  }
  const sessionId = text(sid);
  const subject = text(sub);
  if (sessionId !== undefined)
    return subject === undefined ? { sid: sessionId } : { sid: sessionId, sub: subject };
  return { sub: subject as string };
}
