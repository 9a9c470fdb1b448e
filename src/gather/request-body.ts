import type { IncomingMessage, ServerResponse } from 'node:http';
import { watchBodyIdle } from '../http/body-idle';
import { BffError } from '../http/error-codes';

/**
 * What all buffered request bodies may hold together. Bodies are reserved when they start (their
 * declared length) or as they grow (chunked), and released when their exchange ends, so slow or
 * stalled uploads cannot hold more memory than this however many arrive.
 */
export class BodyBudget {
  private held = 0;

  constructor(private readonly maxBytes: number) {}

  reserve(bytes: number): boolean {
    if (this.held + bytes > this.maxBytes) return false;
    this.held += bytes;
    return true;
  }

  release(bytes: number): void {
    this.held -= bytes;
  }
}

export interface BodyLimits {
  /** One body's limit (PROXY_MAX_BODY_BYTES). */
  readonly maxBytes: number;
  /** Longest silence inside a body before 408. */
  readonly idleMs: number;
  readonly budget: BodyBudget;
}

/**
 * Reads the request body into memory. Buffered rather than streamed so that a request refused
 * by Gather's 401 can be replayed once with a reloaded key, and an oversized body is refused
 * before Gather sees any of it. Written by hand because neither raw-body nor Node bounds the
 * silence inside a body or the memory of all bodies together (docs/contract.md, "Error codes":
 * 408, 413, 503). Undefined, not a promise, for a request that declares no body (most calls:
 * nothing to wait for); the reservation is released when `res` closes.
 */
export function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  limits: BodyLimits,
): Promise<Buffer> | undefined {
  const declared = req.headers['content-length'];
  if (declared === undefined && req.headers['transfer-encoding'] === undefined) return undefined;
  const length = declared === undefined ? undefined : Number(declared);
  if (length !== undefined && length > limits.maxBytes) {
    return Promise.reject(new BffError('PAYLOAD_TOO_LARGE'));
  }
  let reserved = 0;
  const reserve = (bytes: number): boolean => {
    if (!limits.budget.reserve(bytes)) return false;
    reserved += bytes;
    return true;
  };
  res.once('close', () => limits.budget.release(reserved));
  if (length !== undefined && !reserve(length)) {
    return Promise.reject(new BffError('SERVICE_UNAVAILABLE', 'Too many uploads in progress'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: BffError | undefined): void => {
      stopIdle();
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onBroken);
      req.off('close', onBroken);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limits.maxBytes) return finish(new BffError('PAYLOAD_TOO_LARGE'));
      if (length === undefined && !reserve(chunk.length)) {
        return finish(new BffError('SERVICE_UNAVAILABLE', 'Too many uploads in progress'));
      }
      chunks.push(chunk);
    };
    const onEnd = (): void =>
      finish(
        length !== undefined && size !== length
          ? new BffError('BAD_REQUEST', 'Request body could not be read')
          : undefined,
      );
    const onBroken = (): void =>
      finish(new BffError('BAD_REQUEST', 'Request body could not be read'));
    const stopIdle = watchBodyIdle(req, limits.idleMs, finish);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onBroken);
    req.on('close', onBroken);
  });
}
