import { parse } from 'cookie';
import type { Request, Response } from 'express';
import type { LoginTransaction, LoginTransactions } from './login-transaction';
import type { TransactionCookiePolicy } from './oidc-cookie';

/** Sign-ins one browser may have in progress at once (one per tab); the oldest goes first. */
export const MAX_TRANSACTIONS = 5;
/** Longest cookie value kept: browsers drop a cookie over about 4 kB whole, not in part. */
const MAX_VALUE_LENGTH = 3800;
/** Between sealed transactions: neither base64url nor `.`, and allowed in a cookie value. */
const SEPARATOR = '~';

/**
 * The sign-ins in progress as the browser carries them: one cookie holding each transaction
 * sealed on its own, so every `GET /auth/login` of several tabs keeps its own transaction and
 * each callback takes only the one its `state` names (docs/contract.md, Sessions: "Several
 * tabs"). Taken transactions, expired ones and those beyond MAX_TRANSACTIONS leave the cookie.
 */
export class TransactionCookie {
  constructor(
    private readonly transactions: LoginTransactions,
    private readonly policy: TransactionCookiePolicy,
  ) {}

  /** Starts a transaction and hands it to the browser beside the ones still in progress. */
  issue(
    req: Request,
    res: Response,
    fields: Omit<LoginTransaction, 'createdAt'>,
  ): LoginTransaction {
    const transaction = this.transactions.create(fields);
    const kept = this.live(req).slice(-(MAX_TRANSACTIONS - 1));
    this.write(res, [...kept, this.transactions.seal(transaction)]);
    return transaction;
  }

  /**
   * The transaction this callback's `state` names, if it is valid; it is used up whatever
   * happens next. The others stay for their own callbacks. A callback that names none clears
   * the cookie.
   */
  take(req: Request, res: Response): LoginTransaction | undefined {
    const state = typeof req.query.state === 'string' ? req.query.state : undefined;
    const sealed = this.sealedValues(req);
    const mine = sealed.find((value) => this.transactions.peek(value)?.state === state);
    const transaction = mine === undefined ? undefined : this.transactions.take(mine);
    const rest = transaction ? this.live(req) : [];
    if (rest.length > 0) this.write(res, rest);
    else res.clearCookie(this.policy.name, this.policy.options);
    return transaction;
  }

  private sealedValues(req: Request): string[] {
    const value = parse(req.headers.cookie ?? '')[this.policy.name];
    return value === undefined ? [] : value.split(SEPARATOR).slice(-MAX_TRANSACTIONS * 2);
  }

  /** The browser's transactions still usable now, oldest first. */
  private live(req: Request): string[] {
    return this.sealedValues(req).filter((value) => this.transactions.peek(value) !== undefined);
  }

  private write(res: Response, sealed: string[]): void {
    // Newest last; drop the oldest while the value would be too long for a browser to keep.
    let kept = sealed;
    while (kept.length > 1 && kept.join(SEPARATOR).length > MAX_VALUE_LENGTH) kept = kept.slice(1);
    res.cookie(this.policy.name, kept.join(SEPARATOR), {
      ...this.policy.options,
      maxAge: this.policy.maxAgeMs,
    });
  }
}
