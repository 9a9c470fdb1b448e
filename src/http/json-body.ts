import { json, type Request, type Response } from 'express';
import { BffError } from './error-codes';

const parseJson = json({ limit: '10kb' });

/**
 * Reads a small JSON body into `req.body` (bodies are not parsed globally): 413 past 10 kB,
 * 400 when it is not JSON. A second call finds the body already read and keeps it, so the
 * login rate limit (which counts by username) and the login route can both ask.
 */
export function readJsonBody(req: Request, res: Response): Promise<unknown> {
  return new Promise((resolve, reject) => {
    parseJson(req, res, (err?: unknown) => {
      if (!err) resolve(req.body);
      else if ((err as { status?: number }).status === 413)
        reject(new BffError('PAYLOAD_TOO_LARGE'));
      else reject(new BffError('BAD_REQUEST', 'Request body is not valid JSON'));
    });
  });
}
