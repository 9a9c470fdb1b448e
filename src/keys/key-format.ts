import { createHash } from 'node:crypto';

const GATHER_KEY = /^qapi_[A-Za-z0-9_-]{16,}$/;

/** Whether a string has the shape of a Gather API key (SPEC: Keys). */
export function isGatherKey(value: string): boolean {
  return GATHER_KEY.test(value);
}

/** The only way a key is ever named in messages, logs and metrics: first 8 hex of its SHA-256. */
export function fingerprint(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 8);
}
