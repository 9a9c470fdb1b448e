import { createHash } from 'node:crypto';

const GATHER_KEY = /^qapi_[A-Za-z0-9_-]{16,}$/;

/** Whether a string has the shape of a Gather API key (docs/contract.md, "Keys"). */
export function isGatherKey(value: string): boolean {
  return GATHER_KEY.test(value);
}

/** The only way a key is ever named in messages, logs and metrics: first 8 hex of its SHA-256. */
export function fingerprint(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 8);
}

/** Words that mark a key copied from documentation or a test, not issued by Gather. */
const EXAMPLE_KEY = /example|test|demo|x{4}|change.?me|dummy|placeholder|sample/i;

/** Whether a key looks like an example (refused in production, whatever its shape). */
export function looksLikeExampleKey(value: string): boolean {
  return EXAMPLE_KEY.test(value.startsWith('qapi_') ? value.slice('qapi_'.length) : value);
}
