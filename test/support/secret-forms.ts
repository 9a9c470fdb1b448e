import { createHash } from 'node:crypto';

/** One way a secret could be written down somewhere, and the text to look for. */
export interface SecretForm {
  readonly name: string;
  readonly needle: string;
  /** Hex and percent-encoding may use either case. */
  readonly ignoreCase: boolean;
}

/**
 * The base64 of `secret` wherever it starts inside a longer encoded value: for each of the three
 * byte alignments, the characters that depend on the secret's bytes alone.
 */
function base64Runs(secret: Buffer, alphabet: 'base64' | 'base64url'): string[] {
  return [0, 1, 2].map((shift) => {
    const total = shift + secret.length;
    const encoded = Buffer.concat([Buffer.alloc(shift), secret])
      .toString(alphabet)
      .replace(/=+$/, '');
    // The first characters mix in the leading filler; a last partial group mixes in padding bits.
    const head = [0, 2, 3][shift] as number;
    return encoded.slice(head, total % 3 === 0 ? encoded.length : encoded.length - 1);
  });
}

/**
 * Every form of `key` a leak check looks for: the key and its random part without the `qapi_`
 * prefix, each plain, URL-encoded (as encodeURIComponent writes it, and every byte as `%XX`),
 * in hex, and in base64 and base64url at any alignment. Never its fingerprint, which may be shown.
 */
export function secretForms(key: string): SecretForm[] {
  const values = [key, key.replace(/^qapi_/, '')];
  const forms: SecretForm[] = [];
  for (const [i, value] of values.entries()) {
    const label = i === 0 ? 'key' : 'key without prefix';
    const bytes = Buffer.from(value, 'utf8');
    forms.push(
      { name: `${label}, plain`, needle: value, ignoreCase: false },
      { name: `${label}, URL-encoded`, needle: encodeURIComponent(value), ignoreCase: false },
      {
        name: `${label}, percent-encoded bytes`,
        needle: [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
        ignoreCase: true,
      },
      { name: `${label}, hex`, needle: bytes.toString('hex'), ignoreCase: true },
      ...base64Runs(bytes, 'base64').map((needle, shift) => ({
        name: `${label}, base64 (offset ${shift})`,
        needle,
        ignoreCase: false,
      })),
      ...base64Runs(bytes, 'base64url').map((needle, shift) => ({
        name: `${label}, base64url (offset ${shift})`,
        needle,
        ignoreCase: false,
      })),
    );
  }
  return forms;
}

/** The names of the forms of the key found in `text`. */
export function findSecret(text: string, forms: readonly SecretForm[]): string[] {
  const lower = text.toLowerCase();
  return forms
    .filter((f) =>
      f.ignoreCase ? lower.includes(f.needle.toLowerCase()) : text.includes(f.needle),
    )
    .map((f) => f.name);
}

/** How logs and metrics name a key: the first 8 hex of its SHA-256. */
export const fingerprint = (key: string): string =>
  createHash('sha256').update(key).digest('hex').slice(0, 8);
