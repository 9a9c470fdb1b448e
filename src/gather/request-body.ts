import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';
import { BffError } from '../http/error-codes';

interface RawBodyError {
  type?: string;
}

/**
 * Reads the request body into memory, up to `limit` bytes. The body is buffered rather than
 * streamed so that a request refused by Gather's 401 can be replayed once with a rotated key,
 * and so that an oversized body is refused before Gather sees any of it.
 * Returns undefined for a request that declares no body.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = req.headers['content-length'];
  if (declared === undefined && req.headers['transfer-encoding'] === undefined) return undefined;
  if (declared !== undefined && Number(declared) > limit) throw new BffError('PAYLOAD_TOO_LARGE');
  try {
    return await getRawBody(req, { limit, length: declared });
  } catch (err) {
    const type = (err as RawBodyError).type;
    if (type === 'entity.too.large') throw new BffError('PAYLOAD_TOO_LARGE');
    throw new BffError('BAD_REQUEST', 'Request body could not be read');
  }
}
