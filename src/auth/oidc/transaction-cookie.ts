import { parse } from 'cookie';
import type { Request, Response } from 'express';
import type { LoginTransaction, LoginTransactions } from './login-transaction';
import type { TransactionCookiePolicy } from './oidc-cookie';

/** The login transaction as the browser carries it: one sealed cookie, set at login, taken at callback. */
export class TransactionCookie {
  constructor(
    private readonly transactions: LoginTransactions,
    private readonly policy: TransactionCookiePolicy,
  ) {}

  /** Starts a transaction and hands it to the browser; a login already in progress is replaced. */
  issue(res: Response, fields: Omit<LoginTransaction, 'createdAt'>): LoginTransaction {
    const transaction = this.transactions.create(fields);
    res.cookie(this.policy.name, this.transactions.seal(transaction), {
      ...this.policy.options,
      maxAge: this.policy.maxAgeMs,
    });
    return transaction;
  }

  /**
   * The browser's transaction, if it is valid, and clears the cookie whatever the outcome:
   * a transaction is good for one callback only.
   */
  take(req: Request, res: Response): LoginTransaction | undefined {
    res.clearCookie(this.policy.name, this.policy.options);
    return this.transactions.take(parse(req.headers.cookie ?? '')[this.policy.name]);
  }
}
