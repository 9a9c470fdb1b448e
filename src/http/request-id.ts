import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

type WithId = IncomingMessage & { id?: unknown };

/** The id `assignRequestId` gave a request routed through Express, if any. */
export function requestIdOf(req: IncomingMessage): string | undefined {
  const id = (req as WithId).id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * The id of this request: generated once, echoed as `X-Request-Id` and used as
 * `meta.requestId`. pino-http calls this as its `genReqId`, so logs carry the same id.
 */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const existing = (req as WithId).id;
  if (typeof existing === 'string') return existing;
  const id = randomUUID();
  (req as WithId).id = id;
  res.setHeader('X-Request-Id', id);
  return id;
}

const USABLE_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * `id` when it may stand in `X-Request-Id`: 1–128 visible ASCII characters. An id from Gather
 * (header or `meta.requestId`) that is not would break the header or bloat it, so the caller
 * keeps its own (docs/contract.md, "Request ids").
 */
export function usableRequestId(id: unknown): string | undefined {
  return typeof id === 'string' && USABLE_ID.test(id) ? id : undefined;
}
