import { createHmac, hkdfSync } from 'node:crypto';

const INFO = 'gather-bff session handle v1';

/**
 * The opaque id a session is listed under (GET /auth/sessions, the admin routes): an HMAC of
 * the session id under a key derived from the first SESSION_SECRET, so the list never shows
 * the cookie's session id and a handle cannot be turned back into one. Nothing is stored: a
 * handle is recomputed when needed (after a secret rotation the handles change, the sessions
 * do not).
 */
export class SessionHandles {
  private readonly key: Buffer;

  constructor(secrets: readonly string[]) {
    this.key = Buffer.from(hkdfSync('sha256', secrets[0] as string, Buffer.alloc(0), INFO, 32));
  }

  of(sid: string): string {
    return createHmac('sha256', this.key).update(sid).digest('base64url').slice(0, 22);
  }
}
