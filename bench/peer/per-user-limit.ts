// A per-user counter as a newcomer writes one: a fixed one-minute window in a Map. The limit
// (PEER_RATE_LIMIT) is set so high by the bench that it counts every call and refuses none.
import type { NextFunction, Request, Response } from 'express';

const LIMIT = Number(process.env.PEER_RATE_LIMIT ?? 100);
const WINDOW_MS = 60_000;
const windows = new Map<string, { start: number; count: number }>();

export function requireUser(req: Request, res: Response, next: NextFunction): void {
  if (req.isAuthenticated()) next();
  else res.status(401).json({ message: 'Unauthorized' });
}

export function perUserLimit(req: Request, res: Response, next: NextFunction): void {
  // requireUser ran first: the session holds a user.
  const id = req.user?.id ?? '';
  const now = Date.now();
  let window = windows.get(id);
  if (!window || now - window.start >= WINDOW_MS) {
    window = { start: now, count: 0 };
    windows.set(id, window);
  }
  window.count++;
  if (window.count > LIMIT) res.status(429).json({ message: 'Too Many Requests' });
  else next();
}
