import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { type SealPurpose, TokenSeal } from '../../session/token-seal';

/** One sign-in in progress: what the callback must check and where it ends. */
export interface LoginTransaction {
  /** Random per login; also the transaction's id for single use. */
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** Already checked by safeReturnTo. */
  readonly returnTo: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

const transactionSchema = z.strictObject({
  state: z.string().min(1),
  nonce: z.string().min(1),
  codeVerifier: z.string().min(1),
  returnTo: z.string().startsWith('/'),
  createdAt: z.number().int(),
});

export interface LoginTransactionsOptions {
  /** SESSION_SECRET's list: the first seals, every one opens (rotation). */
  secrets: readonly string[];
  ttlMs: number;
  /** Transactions remembered as used; the oldest are forgotten first. */
  maxUsed?: number;
  /** Epoch-millisecond clock; tests pass a fake one. */
  now?: () => number;
}

const TRANSACTION_SEAL: SealPurpose = {
  version: 'v1',
  info: 'gather-bff oidc login transaction v1',
};
/** Replicas' clocks may disagree a little about when a transaction was created. */
const CLOCK_SKEW_MS = 30_000;

/**
 * Seals a login transaction into a cookie value and opens it again, once. The value is sealed
 * by TokenSeal (AES-256-GCM under a key derived from the session secret): the browser holds it
 * but can neither read the PKCE verifier and nonce nor forge one.
 * A transaction is refused after its TTL and after it was opened once; the latter is
 * remembered in this process (a replay on another replica still meets the provider's
 * single-use authorization code).
 */
export class LoginTransactions {
  private readonly cookieSeal: TokenSeal;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly used: LRUCache<string, true>;

  constructor(options: LoginTransactionsOptions) {
    this.cookieSeal = new TokenSeal(options.secrets, TRANSACTION_SEAL);
    this.ttlMs = options.ttlMs;
    this.now = options.now ?? Date.now;
    this.used = new LRUCache<string, true>({
      max: options.maxUsed ?? 10_000,
      // Past its TTL a transaction is refused anyway; no need to remember it longer.
      ttl: options.ttlMs,
      ttlAutopurge: false,
      ttlResolution: 0,
      perf: { now: this.now },
    });
  }

  /** A new transaction for `returnTo`, created now. */
  create(fields: Omit<LoginTransaction, 'createdAt'>): LoginTransaction {
    return { ...fields, createdAt: this.now() };
  }

  seal(transaction: LoginTransaction): string {
    return this.cookieSeal.seal(JSON.stringify(transaction));
  }

  /**
   * The transaction sealed in `value`, unless it is missing, forged, sealed under an unknown
   * secret, expired or already taken. Taking it uses it up, whatever happens next.
   */
  take(value: string | undefined): LoginTransaction | undefined {
    const transaction = this.peek(value);
    if (transaction) this.used.set(transaction.state, true);
    return transaction;
  }

  /** The transaction sealed in `value` if `take` would accept it now, without using it up. */
  peek(value: string | undefined): LoginTransaction | undefined {
    const transaction = value === undefined ? undefined : this.open(value);
    if (!transaction) return undefined;
    const age = this.now() - transaction.createdAt;
    if (age < -CLOCK_SKEW_MS || age > this.ttlMs) return undefined;
    return this.used.has(transaction.state) ? undefined : transaction;
  }

  private open(value: string): LoginTransaction | undefined {
    const json = this.cookieSeal.open(value);
    if (json === undefined) return undefined;
    try {
      const parsed = transactionSchema.safeParse(JSON.parse(json));
      return parsed.success ? parsed.data : undefined;
    } catch {
      // Authentic but not JSON: only a bug on our side seals that; refuse it all the same.
      return undefined;
    }
  }
}
