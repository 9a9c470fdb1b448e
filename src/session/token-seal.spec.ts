import { REFRESH_TOKEN_SEAL, type SealPurpose, TokenSeal } from './token-seal';

const A = 'a'.repeat(16) + 'first-session-secret';
const B = 'b'.repeat(16) + 'second-session-secret';
const TOKEN = 'opaque-refresh-token-0123456789';
const OTHER: SealPurpose = { version: 'x1', info: 'gather-bff another purpose v1' };

describe('TokenSeal', () => {
  it('opens what it sealed; the sealed value never shows the token', () => {
    const seal = new TokenSeal([A], REFRESH_TOKEN_SEAL);
    const sealed = seal.seal(TOKEN);
    expect(sealed).toMatch(/^r1\.[\w-]+$/);
    expect(sealed).not.toContain(TOKEN);
    expect(Buffer.from(sealed.slice(3), 'base64url').toString('latin1')).not.toContain(TOKEN);
    expect(seal.open(sealed)).toBe(TOKEN);
    expect(seal.seal(TOKEN)).not.toBe(sealed);
  });

  it('follows SESSION_SECRET rotation: seals with the first, opens with any', () => {
    const old = new TokenSeal([A], REFRESH_TOKEN_SEAL).seal(TOKEN);
    const rotated = new TokenSeal([B, A], REFRESH_TOKEN_SEAL);
    expect(rotated.open(old)).toBe(TOKEN);
    expect(new TokenSeal([A], REFRESH_TOKEN_SEAL).open(rotated.seal(TOKEN))).toBeUndefined();
    expect(new TokenSeal([B], REFRESH_TOKEN_SEAL).open(rotated.seal(TOKEN))).toBe(TOKEN);
  });

  it('refuses a changed or malformed value', () => {
    const seal = new TokenSeal([A], REFRESH_TOKEN_SEAL);
    const raw = Buffer.from(seal.seal(TOKEN).slice(3), 'base64url');
    raw[14] = (raw[14] as number) ^ 1;
    for (const value of [`r1.${raw.toString('base64url')}`, '', 'r1.', 'v1.abc', 'r1.a.b']) {
      expect(seal.open(value)).toBeUndefined();
    }
  });

  it('never opens a value sealed for another purpose, even relabelled', () => {
    const refresh = new TokenSeal([A], REFRESH_TOKEN_SEAL);
    const other = new TokenSeal([A], OTHER);
    const sealed = other.seal(TOKEN);
    expect(sealed).toMatch(/^x1\./);
    expect(other.open(sealed)).toBe(TOKEN);
    expect(refresh.open(sealed)).toBeUndefined();
    expect(refresh.open(`r1.${sealed.slice(3)}`)).toBeUndefined();
    expect(other.open(refresh.seal(TOKEN))).toBeUndefined();
  });

  it('seals the empty string and any Unicode text', () => {
    const seal = new TokenSeal([A], OTHER);
    for (const text of ['', '{"state":"é✓"}', '\u{1F600}'.repeat(100)]) {
      expect(seal.open(seal.seal(text))).toBe(text);
    }
  });

  it('opens refresh tokens sealed before TokenSeal served more than one purpose', () => {
    const earlier =
      'r1.DVPh6HBk-pmIfgwdQ3MTQWYIAWYe08wtdyM6JUiQlVFdBUfOxU5YXYdNxNCmyhvqLDEC1uL74FLdE9o';
    expect(new TokenSeal([A], REFRESH_TOKEN_SEAL).open(earlier)).toBe(TOKEN);
  });
});
