import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * What a sealed value is for. Each purpose has its own key (the HKDF info) and its own version
 * prefix (also the AAD), so a value sealed for one purpose never opens as another.
 */
export interface SealPurpose {
  /** Prefix of the sealed value; no dots. */
  readonly version: string;
  readonly info: string;
}

/** The provider's refresh token kept in a session. */
export const REFRESH_TOKEN_SEAL: SealPurpose = {
  version: 'r1',
  info: 'gather-bff refresh token v1',
};

/**
 * Seals a string that must not be kept or handed out in the clear (the refresh token in the
 * session store, the OIDC login transaction in a cookie): AES-256-GCM under a key derived
 * (HKDF-SHA256) from SESSION_SECRET, following its rotation: the first secret seals, every one
 * opens.
 */
export class TokenSeal {
  private readonly keys: readonly Buffer[];
  private readonly aad: Buffer;

  constructor(
    secrets: readonly string[],
    private readonly purpose: SealPurpose,
  ) {
    this.keys = secrets.map((secret) =>
      Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), purpose.info, 32)),
    );
    this.aad = Buffer.from(purpose.version);
  }

  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0] as Buffer, iv);
    cipher.setAAD(this.aad);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const sealed = Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    return `${this.purpose.version}.${sealed}`;
  }

  /** The string sealed in `value`, or undefined when no configured secret opens it. */
  open(value: string): string | undefined {
    const [version, data, ...rest] = value.split('.');
    if (version !== this.purpose.version || data === undefined || rest.length > 0) return undefined;
    const raw = Buffer.from(data, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
    for (const key of this.keys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAAD(this.aad);
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        // Sealed under another secret: try the next.
      }
    }
    return undefined;
  }
}
