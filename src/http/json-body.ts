import { json, type Request, type Response } from 'express';
import { parseBodyWithin } from './body-idle';
import { BffError } from './error-codes';

const parseJson = json({ limit: '10kb' });

/**
 * Reads a small JSON body into `req.body` (bodies are not parsed globally): 413 past 10 kB,
 * 400 when it is not JSON, 408 when it pauses too long. A second call finds the body already
 * read and keeps it, so the login rate limit (which counts by username) and the login route
 * can both ask.
 */
export async function readJsonBody(req: Request, res: Response): Promise<unknown> {
  try {
    await parseBodyWithin(parseJson, req, res);
  } catch (err) {
    if (err instanceof BffError) throw err;
    if ((err as { status?: number }).status === 413) throw new BffError('PAYLOAD_TOO_LARGE');
    throw new BffError('BAD_REQUEST', 'Request body is not valid JSON');
  }
  return req.body;
}
