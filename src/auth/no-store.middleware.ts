import type { NextFunction, Request, Response } from 'express';

/** Nothing under /auth may be cached: identities, session state, redirects. */
export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cache-Control', 'no-store');
  next();
}
