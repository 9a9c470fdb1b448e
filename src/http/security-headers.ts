import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The policy on every proxied response: whatever Gather returns never runs as a page here. */
export const PROXIED_CONTENT_SECURITY_POLICY =
  "default-src 'none'; frame-ancestors 'none'; sandbox";

/** Helmet's headers as a table, read once by running it against a recording response. */
function helmetTable(): Record<string, string> {
  const table: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string | number) => {
      table[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete table[name.toLowerCase()];
    },
  };
  helmet()({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return table;
}

/**
 * The security headers of the proxied path, computed once: helmet's defaults (the same the Nest
 * routes get) with the sandboxing policy in place of helmet's page policy (docs/contract.md,
 * "Headers to the browser"). Per request, writing them is one object spread.
 */
export function proxiedSecurityHeaders(): Readonly<Record<string, string>> {
  return Object.freeze({
    ...helmetTable(),
    'content-security-policy': PROXIED_CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
  });
}
