/** What the BFF reads from a Gather error body: the envelope's code, requestId and timestamp. */
export interface GatherErrorMeta {
  code?: string;
  requestId?: string;
  timestamp?: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Parses a Gather error envelope leniently: a body that is not one yields an empty result. */
export function readGatherError(body: Buffer): GatherErrorMeta {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as {
      error?: { code?: unknown };
      meta?: { requestId?: unknown; timestamp?: unknown };
    };
    return {
      code: str(parsed?.error?.code),
      requestId: str(parsed?.meta?.requestId),
      timestamp: str(parsed?.meta?.timestamp),
    };
  } catch {
    return {};
  }
}
