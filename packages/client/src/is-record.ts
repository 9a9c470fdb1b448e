/** A plain object (not null, not an array): a JSON body whose fields can be read by name. */
export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
