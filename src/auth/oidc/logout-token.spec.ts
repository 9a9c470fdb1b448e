import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  SignJWT,
  UnsecuredJWT,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { MemoryJtiReplay } from './jti-replay';
import {
  BACKCHANNEL_LOGOUT_EVENT,
  CLOCK_TOLERANCE_SECONDS,
  JTI_MEMORY_PAST_SESSIONS_MS,
  LogoutTokenError,
  verifyLogoutToken,
} from './logout-token';

const ISSUER = 'https://idp.example.test';
const CLIENT_ID = 'gather-bff';
const NOW = 1_800_000_000_000;
const now = (): number => NOW;
const seconds = (ms: number): number => Math.floor(ms / 1000);

type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let signingKey: Key;
let otherKey: Key;
let keys: JWTVerifyGetKey;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  keys = createLocalJWKSet({ keys: [jwk] });
});

let n = 0;
/** A valid logout token's claims; each test removes or changes one. */
const claims = (): JWTPayload => ({
  iss: ISSUER,
  aud: CLIENT_ID,
  iat: seconds(NOW) - 5,
  exp: seconds(NOW) + 120,
  jti: `jti-${(n += 1)}`,
  sub: 'ada',
  sid: 'op-session-1',
  events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
});

const sign = (payload: JWTPayload, key: Key = signingKey): Promise<string> =>
  new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'logout+jwt' }).sign(key);

const LONGEST_SESSION_MS = 8 * 3600 * 1000;

const verified = (token: string, replay = new MemoryJtiReplay()) =>
  verifyLogoutToken(token, {
    issuer: ISSUER,
    clientId: CLIENT_ID,
    keys,
    replay,
    longestSessionMs: LONGEST_SESSION_MS,
    now,
  });

const verify = async (token: string, replay = new MemoryJtiReplay()) =>
  (await verified(token, replay)).target;

const without = (payload: JWTPayload, name: string): JWTPayload => {
  const copy = { ...payload };
  delete copy[name];
  return copy;
};

describe('verifyLogoutToken', () => {
  it('accepts a valid token and names the provider session, with the user when given', async () => {
    await expect(verify(await sign(claims()))).resolves.toEqual({
      sid: 'op-session-1',
      sub: 'ada',
    });
    await expect(verify(await sign(without(claims(), 'sub')))).resolves.toEqual({
      sid: 'op-session-1',
    });
    await expect(verify(await sign(without(claims(), 'sid')))).resolves.toEqual({ sub: 'ada' });
  });

  it('accepts an audience list that holds the client id', async () => {
    await expect(verify(await sign({ ...claims(), aud: ['other', CLIENT_ID] }))).resolves.toEqual({
      sid: 'op-session-1',
      sub: 'ada',
    });
  });

  it.each<[string, () => JWTPayload]>([
    ['another issuer', () => ({ ...claims(), iss: 'https://evil.example.test' })],
    ['no issuer', () => without(claims(), 'iss')],
    ['an audience without the client id', () => ({ ...claims(), aud: ['other'] })],
    ['no audience', () => without(claims(), 'aud')],
    ['no iat', () => without(claims(), 'iat')],
    ['an iat in the future', () => ({ ...claims(), iat: seconds(NOW) + 600 })],
    ['an iat 10 s in the future', () => ({ ...claims(), iat: seconds(NOW) + 10 })],
    [
      'an exp passed 10 s ago',
      () => ({ ...claims(), iat: seconds(NOW) - 60, exp: seconds(NOW) - 10 }),
    ],
    ['no exp', () => without(claims(), 'exp')],
    ['an exp passed', () => ({ ...claims(), iat: seconds(NOW) - 600, exp: seconds(NOW) - 120 })],
    ['no events', () => without(claims(), 'events')],
    [
      'events without the back-channel logout event',
      () => ({ ...claims(), events: { other: {} } }),
    ],
    [
      'the event not as an object',
      () => ({ ...claims(), events: { [BACKCHANNEL_LOGOUT_EVENT]: 'yes' } }),
    ],
    ['neither sub nor sid', () => without(without(claims(), 'sub'), 'sid')],
    ['a nonce', () => ({ ...claims(), nonce: 'n-1' })],
    ['no jti', () => without(claims(), 'jti')],
  ])('refuses a token with %s', async (_case, payload) => {
    await expect(verify(await sign(payload()))).rejects.toBeInstanceOf(LogoutTokenError);
  });

  it('refuses a token signed by a key not in the JWKS', async () => {
    await expect(verify(await sign(claims(), otherKey))).rejects.toBeInstanceOf(LogoutTokenError);
  });

  it('refuses an unsigned token (alg none) and a token whose payload was changed', async () => {
    const unsigned = new UnsecuredJWT(claims()).encode();
    await expect(verify(unsigned)).rejects.toBeInstanceOf(LogoutTokenError);
    const [header, , signature] = (await sign(claims())).split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims(), sub: 'mallory' })).toString(
      'base64url',
    );
    await expect(verify(`${header}.${forged}.${signature}`)).rejects.toBeInstanceOf(
      LogoutTokenError,
    );
    await expect(verify('not a jwt')).rejects.toBeInstanceOf(LogoutTokenError);
  });

  it('records nothing itself, and refuses a jti recorded as used, in any token', async () => {
    const replay = new MemoryJtiReplay();
    const valid = claims();
    const token = await sign(valid);
    const { jti, rememberUntil } = await verified(token, replay);
    // Verified twice, not yet used: the sessions may not have ended (a 503), so it still counts.
    await expect(verify(token, replay)).resolves.toEqual({ sid: 'op-session-1', sub: 'ada' });
    await replay.record(ISSUER, jti, rememberUntil);
    await expect(verify(token, replay)).rejects.toThrow(/replayed jti/);
    // The same jti in a fresh token is a replay too.
    await expect(verify(await sign({ ...valid, iat: seconds(NOW) - 1 }), replay)).rejects.toThrow(
      /replayed jti/,
    );
  });

  it('remembers a jti until exp, and a far-future exp a day past the longest session at most', async () => {
    const near = await verified(await sign(claims()));
    expect(near.rememberUntil).toBe((seconds(NOW) + 120 + CLOCK_TOLERANCE_SECONDS) * 1000);
    const far = await verified(await sign({ ...claims(), exp: 1e16 }));
    expect(far.rememberUntil).toBe(NOW + LONGEST_SESSION_MS + JTI_MEMORY_PAST_SESSIONS_MS);
    const replay = new MemoryJtiReplay();
    await replay.record(ISSUER, far.jti, far.rememberUntil);
    await expect(replay.used(ISSUER, far.jti)).resolves.toBe(true);
  });
});
