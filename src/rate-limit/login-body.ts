import { json, type Request, type Response } from 'express';
import { BffError } from '../http/error-codes';

const parseJson = json({ limit: '10kb' });

/**
 * Reads the login request's JSON body into `req.body` ahead of the login route's own reader,
 * which then finds the stream consumed and keeps it; same limit and the same 400/413 answers.
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
