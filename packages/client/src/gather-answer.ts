import type { GatherClient, RequestOptions } from './gather-client.js';
import { GatherError } from './gather-error.js';
import { isRecord } from './is-record.js';

/** `meta` of a Gather answer: the request id and time, and whatever else Gather adds (paging). */
export interface GatherMeta {
  requestId?: string;
  timestamp?: string;
  [field: string]: unknown;
}

/** The body of a successful Gather answer: its payload in `data`, the rest in `meta`. */
export interface GatherAnswer<T> {
  data: T;
  meta: GatherMeta;
}

/**
 * Calls Gather through the BFF (`client.gather`) and returns its answer as Gather shapes it,
 * `{ data, meta }`. An answer of another shape (no body, not JSON, no `data`) is an
 * `UNEXPECTED_RESPONSE` GatherError rather than a `data` of the wrong type.
 */
export async function gatherAnswer<T>(
  client: GatherClient,
  path: string,
  options?: RequestOptions,
): Promise<GatherAnswer<T>> {
  const res = await client.gather<unknown>(path, options);
  const body = res.data;
  if (!isRecord(body) || !('data' in body)) {
    throw new GatherError({
      status: res.status,
      code: 'UNEXPECTED_RESPONSE',
      message: `HTTP ${res.status} without Gather's { data, meta } body`,
      requestId: res.requestId,
    });
  }
  return { data: body.data as T, meta: isRecord(body.meta) ? body.meta : {} };
}
