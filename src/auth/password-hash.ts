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

/** The argon2id options a PHC string was written with, in whatever order its writer used. */
function argon2Options(hash: string): argon2.HashOptions {
  const options: argon2.HashOptions = { type: argon2.argon2id };
  for (const pair of (ARGON2ID.exec(hash)?.[1] ?? '').split(',')) {
    const [name, value] = pair.split('=');
    const option = ARGON2_PARAMS[name as keyof typeof ARGON2_PARAMS];
    if (option) options[option] = Number(value);
  }
  return options;
}

/**
 * The algorithm and the parameters that decide how long verifying `hash` takes, e.g.
 * `bcrypt 12` or `argon2id m=65536,p=4,t=3`: hashes with the same cost take the same time.
 */
export function hashCost(hash: string): string {
  const bcryptCost = BCRYPT.exec(hash)?.[2];
  if (bcryptCost !== undefined) return `bcrypt ${bcryptCost}`;
  const { memoryCost, parallelism, timeCost } = argon2Options(hash);
  return `argon2id m=${memoryCost},p=${parallelism},t=${timeCost}`;
}

/**
 * A hash of a random password made with the same algorithm and cost as `like`: verifying an
 * unknown user against it takes about as long as verifying a known user's password.
 */
export async function decoyHashLike(like: string): Promise<string> {
  const password = randomBytes(24).toString('base64');
  const bcryptCost = BCRYPT.exec(like)?.[2];
  if (bcryptCost !== undefined) return bcrypt.hash(password, Number(bcryptCost));
  return argon2.hash(password, argon2Options(like));
}

interface TimedDecoy {
  decoy: string;
  ms: number;
}

/**
 * A decoy like `like` and the least time that making one took in `tries`: the machine's noise
 * only ever adds time. Undefined when the library refuses that cost.
 */
async function timedDecoy(like: string, tries: number): Promise<TimedDecoy | undefined> {
  let quickest: TimedDecoy | undefined;
  for (let i = 0; i < tries; i++) {
    const start = performance.now();
    const decoy = await decoyHashLike(like).catch(() => undefined);
    if (decoy === undefined) return undefined;
    const ms = performance.now() - start;
    if (quickest === undefined || ms < quickest.ms) quickest = { decoy, ms };
  }
  return quickest;
}

/**
 * A decoy hash of the slowest cost among `hashes`, whatever their order. Costs of different
 * algorithms do not compare on paper, so each distinct cost is timed, one after the other so
 * that they do not slow each other. A cost the library refuses is left out: verifying a hash
 * of that cost fails at once, too (and with none left, so does checking the empty decoy).
 */
export async function slowestDecoyHash(hashes: Iterable<string>): Promise<string> {
  const byCost = new Map<string, string>();
  for (const hash of hashes) byCost.set(hashCost(hash), hash);
  const tries = byCost.size > 1 ? 3 : 1;
  let slowest: TimedDecoy | undefined;
  for (const like of byCost.values()) {
    const timed = await timedDecoy(like, tries);
    if (timed !== undefined && (slowest === undefined || timed.ms > slowest.ms)) slowest = timed;
  }
  return slowest?.decoy ?? '';
}
