import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'r1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const INFO = 'gather-bff refresh token v1';

/**
 * Seals a provider token kept in a session (the refresh token) so that the store never holds it
 * in the clear: AES-256-GCM under a key derived (HKDF-SHA256) from SESSION_SECRET, following its
 * rotation: the first secret seals, every one opens.
 */
export class TokenSeal {
  private readonly keys: readonly Buffer[];

  constructor(secrets: readonly string[]) {
    this.keys = secrets.map((secret) =>
      Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), INFO, 32)),
    );
  }

  seal(token: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0] as Buffer, iv);
    cipher.setAAD(Buffer.from(VERSION));
    const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** The token sealed in `value`, or undefined when no configured secret opens it. */
  open(value: string): string | undefined {
    const [version, data, ...rest] = value.split('.');
    if (version !== VERSION || data === undefined || rest.length > 0) return undefined;
    const raw = Buffer.from(data, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
    for (const key of this.keys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAAD(Buffer.from(VERSION));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        // Sealed under another secret: try the next.
      }
    }
    return undefined;
  }
}
