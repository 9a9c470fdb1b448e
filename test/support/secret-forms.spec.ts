import { randomBytes } from 'node:crypto';
import { findSecret, fingerprint, secretForms } from './secret-forms';

/** The scanner behind the browser leak check must find what it claims to, or that check proves nothing. */
describe('secretForms and findSecret', () => {
  const key = `qapi_${randomBytes(24).toString('base64url')}`;
  const secret = key.slice('qapi_'.length);
  const forms = secretForms(key);
  const percentAll = (s: string) =>
    [...Buffer.from(s)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

  it.each([
    ['plain', `{"apiKey":"${key}"}`],
    ['inside a URL', `/x?k=${encodeURIComponent(key)}&y=1`],
    ['percent-encoded, upper case', `k=${percentAll(key)}`],
    ['hex, upper case', Buffer.from(key).toString('hex').toUpperCase()],
    ['the random part alone', `token ${secret}.`],
    ['the random part, percent-encoded', percentAll(secret)],
  ])('finds the key %s', (_how, text) => {
    expect(findSecret(text, forms)).not.toEqual([]);
  });

  it('finds it in base64 and base64url wherever it starts inside a longer value', () => {
    for (const value of [key, secret]) {
      for (let before = 0; before < 6; before++) {
        for (let after = 0; after < 4; after++) {
          const plain = Buffer.from(`${'<'.repeat(before)}${value}${'>'.repeat(after)}`);
          for (const encoding of ['base64', 'base64url'] as const) {
            expect([
              before,
              after,
              encoding,
              findSecret(plain.toString(encoding), forms),
            ]).not.toEqual([before, after, encoding, []]);
          }
        }
      }
    }
  });

  it('does not flag the fingerprint, another key, or a near miss', () => {
    const other = `qapi_${randomBytes(24).toString('base64url')}`;
    for (const text of [
      `key ${fingerprint(key)} loaded`,
      other,
      Buffer.from(other).toString('base64'),
      key.slice(0, -1),
    ]) {
      expect(findSecret(text, forms)).toEqual([]);
    }
  });
});
