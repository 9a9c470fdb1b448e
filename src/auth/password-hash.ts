import * as argon2 from 'argon2';
import * as bcrypt from 'bcryptjs';
import { randomBytes } from 'node:crypto';

export type HashKind = 'argon2id' | 'bcrypt';

// PHC string format; writers differ in the order of the m, t and p parameters.
const ARGON2ID = /^\$argon2id\$v=\d+\$([a-z]=\d+(?:,[a-z]=\d+)*)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;
const ARGON2_PARAMS = { m: 'memoryCost', t: 'timeCost', p: 'parallelism' } as const;
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/** Which supported algorithm wrote `hash`, judged by its prefix and shape. */
export function hashKind(hash: string): HashKind | undefined {
  if (ARGON2ID.test(hash)) return 'argon2id';
  if (BCRYPT.test(hash)) return 'bcrypt';
  return undefined;
}

/** Whether `password` matches `hash`; a hash the library cannot read counts as a mismatch. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return hashKind(hash) === 'bcrypt'
      ? await bcrypt.compare(password, hash)
      : await argon2.verify(hash, password);
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
  const bcryptCost = BCRYPT.exec(like)?.[1];
  if (bcryptCost !== undefined) return bcrypt.hash(password, Number(bcryptCost));
  const options: argon2.HashOptions = { type: argon2.argon2id };
  for (const pair of (ARGON2ID.exec(like)?.[1] ?? '').split(',')) {
    const [name, value] = pair.split('=');
    const option = ARGON2_PARAMS[name as keyof typeof ARGON2_PARAMS];
    if (option) options[option] = Number(value);
  }
  return argon2.hash(password, options);
}
