import * as argon2 from 'argon2';
import * as bcrypt from 'bcrypt';
import { randomBytes } from 'node:crypto';

/*
 * Both libraries are native and hash on libuv's thread pool, so a login never holds the event
 * loop (docs/contract.md, Routes: `POST /auth/login`). bcryptjs, pure JavaScript, did.
 */

export type HashKind = 'argon2id' | 'bcrypt';

// PHC string format; writers differ in the order of the m, t and p parameters.
const ARGON2ID = /^\$argon2id\$v=\d+\$([a-z]=\d+(?:,[a-z]=\d+)*)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;
const ARGON2_PARAMS = { m: 'memoryCost', t: 'timeCost', p: 'parallelism' } as const;
// Costs 04 to 31 only: the library hashes outside that range at another cost, or never returns.
const BCRYPT = /^\$2([aby])\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

/** Which supported algorithm wrote `hash`, judged by its prefix and shape. */
export function hashKind(hash: string): HashKind | undefined {
  if (ARGON2ID.test(hash)) return 'argon2id';
  if (BCRYPT.test(hash)) return 'bcrypt';
  return undefined;
}

/** Whether `password` matches `hash`; a hash the library cannot read counts as a mismatch. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    const bcryptMinor = BCRYPT.exec(hash)?.[1];
    if (bcryptMinor === undefined) return await argon2.verify(hash, password);
    // `$2y$` (PHP, htpasswd) is `$2b$` under another name; the native library knows only the latter.
    return await bcrypt.compare(password, bcryptMinor === 'y' ? `$2b$${hash.slice(4)}` : hash);
  } catch {
    return false;
  }
}

/**
 * A hash of a random password made with the same algorithm and cost as `like`: verifying an
 * unknown user against it takes about as long as verifying a known user's password.
 */
export async function decoyHashLike(like: string): Promise<string> {
  const password = randomBytes(24).toString('base64');
  const bcryptCost = BCRYPT.exec(like)?.[2];
  if (bcryptCost !== undefined) return bcrypt.hash(password, Number(bcryptCost));
  const options: argon2.HashOptions = { type: argon2.argon2id };
  for (const pair of (ARGON2ID.exec(like)?.[1] ?? '').split(',')) {
    const [name, value] = pair.split('=');
    const option = ARGON2_PARAMS[name as keyof typeof ARGON2_PARAMS];
    if (option) options[option] = Number(value);
  }
  return argon2.hash(password, options);
}
