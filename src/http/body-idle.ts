import type { IncomingMessage, ServerResponse } from 'node:http';
import { BffError } from './error-codes';

/** Longest silence inside a request body (docs/contract.md, "Error codes": 408). */
export const BODY_IDLE_MS = 10_000;

/**
 * Slowest average rate of a request body once it has been open BODY_RATE_GRACE_MS
 * (docs/contract.md, "Uploads"): far below any real link, far above a trickle meant to hold a
 * reservation.
 */
export const BODY_MIN_BYTES_PER_SECOND = 1024;
export const BODY_RATE_GRACE_MS = 10_000;

/**
 * The one idle timer for request bodies: calls `onIdle` with 408 REQUEST_TIMEOUT once `req` has
 * sent nothing for `idleMs`, counted from now and again from every chunk. Returns the function
 * that stops the watch (called when the body is done, or given up).
 */
export function watchBodyIdle(
  req: IncomingMessage,
  idleMs: number,
  onIdle: (err: BffError) => void,
): () => void {
  const stop = (): void => {
    clearTimeout(timer);
    req.off('data', onData);
  };
  const onData = (): void => {
    timer.refresh();
  };
  const timer = setTimeout(() => {
    stop();
    onIdle(new BffError('REQUEST_TIMEOUT'));
  }, idleMs);
  req.on('data', onData);
  return stop;
}

/** An Express body parser (`express.json`, `express.urlencoded`). */
export type BodyParser = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: Error) => void,
) => void;

/**
 * Runs a body parser under the proxy's rule for bodies (body-parser bounds a body's size, not
 * its pauses): rejects with 408 REQUEST_TIMEOUT after BODY_IDLE_MS of silence, and the answer
 * closes the connection, as the rest of the body cannot be skipped safely. Otherwise settles as
 * the parser does; its late callback, once the closed connection ends its read, is ignored.
 */
export function parseBodyWithin(
  parser: BodyParser,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let stop = (): void => undefined;
    let settled = false;
    parser(req, res, (err) => {
      settled = true;
      stop();
      if (err) reject(err);
      else resolve();
    });
    // A parser that reads nothing (no body, another content type, a body read before) has
    // answered already; a watch would set that unread body flowing.
    if (settled) return;
    stop = watchBodyIdle(req, BODY_IDLE_MS, (err) => {
      res.setHeader('Connection', 'close');
      reject(err);
    });
  });
}
