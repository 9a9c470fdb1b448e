import { TokenSeal } from './token-seal';

const A = 'a'.repeat(16) + 'first-session-secret';
const B = 'b'.repeat(16) + 'second-session-secret';
const TOKEN = 'opaque-refresh-token-0123456789';

describe('TokenSeal', () => {
  it('opens what it sealed; the sealed value never shows the token', () => {
    const seal = new TokenSeal([A]);
    const sealed = seal.seal(TOKEN);
    expect(sealed).toMatch(/^r1\.[\w-]+$/);
    expect(sealed).not.toContain(TOKEN);
    expect(Buffer.from(sealed.slice(3), 'base64url').toString('latin1')).not.toContain(TOKEN);
    expect(seal.open(sealed)).toBe(TOKEN);
    expect(seal.seal(TOKEN)).not.toBe(sealed);
  });

  it('follows SESSION_SECRET rotation: seals with the first, opens with any', () => {
    const old = new TokenSeal([A]).seal(TOKEN);
    const rotated = new TokenSeal([B, A]);
    expect(rotated.open(old)).toBe(TOKEN);
    expect(new TokenSeal([A]).open(rotated.seal(TOKEN))).toBeUndefined();
    expect(new TokenSeal([B]).open(rotated.seal(TOKEN))).toBe(TOKEN);
  });

  it('refuses a changed or malformed value', () => {
    const seal = new TokenSeal([A]);
    const raw = Buffer.from(seal.seal(TOKEN).slice(3), 'base64url');
    raw[14] = (raw[14] as number) ^ 1;
    for (const value of [`r1.${raw.toString('base64url')}`, '', 'r1.', 'v1.abc', 'r1.a.b']) {
      expect(seal.open(value)).toBeUndefined();
    }
  });
});
