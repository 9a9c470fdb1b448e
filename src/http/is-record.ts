/** A plain object (not null, not an array) whose fields can be read by name: parsed JSON, YAML, a stored session. */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
