import { parse } from 'cookie';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import type { LoginTransaction, LoginTransactions } from './login-transaction';
import type { TransactionCookiePolicy } from './oidc-cookie';

/** Sign-ins one browser may have in progress at once (one per tab); the oldest goes first. */
export const MAX_TRANSACTIONS = 5;
/**
 * Most that the transaction cookies may add to every request's Cookie header, names included:
 * a page that sends the browser to `/auth/login` with long `returnTo`s must not push its headers
 * past what servers accept (431), which would lock it out of the BFF until the cookies expire.
 */
const MAX_TOTAL_LENGTH = 3800;

/**
 * The sign-ins in progress as the browser carries them: one cookie per transaction, named after
 * its `state` (`<name>_<tag>`), so that `GET /auth/login`s of several tabs sent at the same
 * moment each keep their own (one shared cookie rewritten per login keeps only the last
 * writer's), and each callback takes only the one its `state` names (docs/contract.md, Sessions:
 * "Several tabs"). Past MAX_TRANSACTIONS or MAX_TOTAL_LENGTH the oldest are expired.
 */
export class TransactionCookie {
  private readonly prefix: string;

  constructor(
    private readonly transactions: LoginTransactions,
    private readonly policy: TransactionCookiePolicy,
  ) {
    this.prefix = `${policy.name}_`;
  }

  /** Starts a transaction and hands it to the browser beside the ones still in progress. */
  issue(
    req: Request,
    res: Response,
    fields: Omit<LoginTransaction, 'createdAt'>,
  ): LoginTransaction {
    const transaction = this.transactions.create(fields);
    const name = this.nameFor(transaction.state);
    const sealed = this.transactions.seal(transaction);
    for (const old of this.beyondLimit(req, name.length + sealed.length)) this.clear(res, old);
    res.cookie(name, sealed, {
      ...this.policy.options,
      maxAge: this.policy.maxAgeMs,
    });
    return transaction;
  }

  /**
   * The transaction this callback's `state` names, if it is valid; it is used up whatever
   * happens next, and its cookie cleared. The other tabs' cookies stay for their own callbacks.
   */
  take(req: Request, res: Response): LoginTransaction | undefined {
    const state = typeof req.query.state === 'string' ? req.query.state : undefined;
    if (state === undefined) return undefined;
    const name = this.nameFor(state);
    const sealed = parse(req.headers.cookie ?? '')[name];
    if (sealed === undefined) return undefined;
    this.clear(res, name);
    const transaction = this.transactions.take(sealed);
    return transaction?.state === state ? transaction : undefined;
  }

  /** A state's cookie name: a digest, so the name neither carries the state nor grows with it. */
  private nameFor(state: string): string {
    return this.prefix + createHash('sha256').update(state).digest('base64url').slice(0, 16);
  }

  /**
   * The browser's transaction cookies to expire, oldest first, so that with a new one of
   * `incoming` characters it stays within MAX_TRANSACTIONS and MAX_TOTAL_LENGTH.
   */
  private beyondLimit(req: Request, incoming: number): string[] {
    const cookies = parse(req.headers.cookie ?? '');
    const mine = Object.keys(cookies).filter((name) => name.startsWith(this.prefix));
    // Unusable ones (expired, used, forged) count as the oldest.
    const created = new Map(
      mine.map((name) => [name, this.transactions.peek(cookies[name])?.createdAt ?? 0]),
    );
    mine.sort((a, b) => (created.get(a) as number) - (created.get(b) as number));
    const size = (name: string): number => name.length + (cookies[name]?.length ?? 0);
    let total = mine.reduce((sum, name) => sum + size(name), incoming);
    let kept = mine.length;
    const expired: string[] = [];
    for (const name of mine) {
      if (kept < MAX_TRANSACTIONS && total <= MAX_TOTAL_LENGTH) break;
      expired.push(name);
      kept -= 1;
      total -= size(name);
    }
    return expired;
  }

  private clear(res: Response, name: string): void {
    res.clearCookie(name, this.policy.options);
  }
}
