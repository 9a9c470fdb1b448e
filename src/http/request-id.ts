import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

type WithId = IncomingMessage & { id?: unknown };

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
