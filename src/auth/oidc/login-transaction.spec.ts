import { LoginTransactions } from './login-transaction';

const SECRET_A = 'a'.repeat(16) + 'secret-number-one';
const SECRET_B = 'b'.repeat(16) + 'secret-number-two';

const FIELDS = {
  state: 'state-123',
  nonce: 'nonce-456',
  codeVerifier: 'verifier-789-with-enough-entropy',
  returnTo: '/questions?x=1',
};

describe('LoginTransactions', () => {
  let now: number;
  const clock = () => now;
  beforeEach(() => {
    now = 1_700_000_000_000;
  });
  const transactions = (secrets = [SECRET_A], ttlMs = 600_000) =>
    new LoginTransactions({ secrets, ttlMs, now: clock });

  it('opens what it sealed, once, with the time it was created', () => {
    const tx = transactions();
    const sealed = tx.seal(tx.create(FIELDS));
    expect(tx.take(sealed)).toEqual({ ...FIELDS, createdAt: now });
    expect(tx.take(sealed)).toBeUndefined();
  });

  it('keeps the verifier, nonce, state and returnTo unreadable in the cookie value', () => {
    const tx = transactions();
    const sealed = tx.seal(tx.create(FIELDS));
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    const visible = `${sealed} ${Buffer.from(sealed.slice(3), 'base64url').toString('latin1')}`;
    for (const value of Object.values(FIELDS)) expect(visible).not.toContain(value);
  });

  it('opens a cookie sealed before the sealing moved to TokenSeal (same wire format)', () => {
    const earlier =
      'v1.Y85mf74FMa1RbjGttGvumiDU8-BteT0CaW_bPypdZNYPqL-iR6knCDKj3peut1arVz_VTFx40y1YYUMsOHHdVk' +
      'OchnWoieEjMG1_8imKGZfAON55Q-5DUvR2u2se0FhFrZOIZ4GGPzjSz_W10LmsdSXYDgUcd43nmPu7OkQjGVATz9v' +
      'sosJqwu4be7Q7vi5cKPeg24VdJtdpi7VgLcQsIYVcNtlamnOqKlpQWf8';
    expect(transactions().take(earlier)).toEqual({ ...FIELDS, createdAt: now });
  });

  it('seals the same transaction differently every time (random IV)', () => {
    const tx = transactions();
    const t = tx.create(FIELDS);
    expect(tx.seal(t)).not.toBe(tx.seal(t));
  });

  it('refuses a value whose any byte was changed', () => {
    const tx = transactions();
    const raw = Buffer.from(tx.seal(tx.create(FIELDS)).slice(3), 'base64url');
    for (const i of [0, 12, raw.length - 17, raw.length - 1]) {
      const forged = Buffer.from(raw);
      forged[i] = (forged[i] as number) ^ 1;
      expect(tx.take(`v1.${forged.toString('base64url')}`)).toBeUndefined();
    }
  });

  it('refuses a value sealed under a secret it does not know', () => {
    const other = transactions([SECRET_B]);
    expect(transactions().take(other.seal(other.create(FIELDS)))).toBeUndefined();
  });

  it('seals with the first secret and opens with any (rotation)', () => {
    const before = transactions([SECRET_A]);
    const after = transactions([SECRET_B, SECRET_A]);
    expect(after.take(before.seal(before.create(FIELDS)))?.state).toBe(FIELDS.state);
    const fresh = after.seal(after.create({ ...FIELDS, state: 'another' }));
    expect(transactions([SECRET_B]).take(fresh)?.state).toBe('another');
    expect(transactions([SECRET_A]).take(fresh)).toBeUndefined();
  });

  it('refuses a transaction older than its TTL, even one never taken', () => {
    const tx = transactions([SECRET_A], 1000);
    const early = tx.seal(tx.create(FIELDS));
    const late = tx.seal(tx.create({ ...FIELDS, state: 'late' }));
    now += 1000;
    expect(tx.take(early)?.state).toBe(FIELDS.state);
    now += 1;
    expect(tx.take(late)).toBeUndefined();
  });

  it('refuses one created far in the future, but allows a little clock skew', () => {
    const ahead = new LoginTransactions({
      secrets: [SECRET_A],
      ttlMs: 600_000,
      now: () => now + 10_000,
    });
    const farAhead = new LoginTransactions({
      secrets: [SECRET_A],
      ttlMs: 600_000,
      now: () => now + 120_000,
    });
    expect(transactions().take(ahead.seal(ahead.create(FIELDS)))?.state).toBe(FIELDS.state);
    expect(transactions().take(farAhead.seal(farAhead.create(FIELDS)))).toBeUndefined();
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['unversioned', 'abc'],
    ['another version', 'v2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['too short', 'v1.AAAA'],
    ['with an extra part', 'v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.x'],
    ['random bytes', `v1.${Buffer.alloc(64, 7).toString('base64url')}`],
  ])('refuses a %s value', (_case, value) => {
    expect(transactions().take(value)).toBeUndefined();
  });
});
