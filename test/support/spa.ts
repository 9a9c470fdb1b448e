import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { TEST_ORIGIN, type TestApp } from './start-app';

/** What the same-origin SPA sends on every call: its origin and the X-CSRF header. */
export const SPA_HEADERS: Readonly<Record<string, string>> = { origin: TEST_ORIGIN, 'x-csrf': '1' };

/** A request not answered by then counts as hanging: the test fails instead of waiting. */
export const ANSWER_WITHIN_MS = 5000;

/** One request as the same-origin SPA sends it (Origin and X-CSRF), with an answer deadline. */
export function spaRequest(
  t: TestApp,
  path: string,
  init: { method?: string; cookie?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...SPA_HEADERS };
  if (init.cookie) headers.cookie = init.cookie;
  return fetch(`${t.url}${path}`, {
    method: init.method ?? 'GET',
    headers,
    signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
  });
}

/**
 * A proxied GET as the SPA sends it, on a connection of its own, asking for compression the BFF
 * must not apply: the request, and its answer once the head is in (the body left to the test).
 */
export function openSpaGet(
  baseUrl: string,
  path: string,
  cookie: string,
): { req: ClientRequest; response: Promise<IncomingMessage> } {
  const req = request(`${baseUrl}${path}`, {
    agent: false,
    headers: { ...SPA_HEADERS, cookie, 'accept-encoding': 'gzip, deflate, br' },
  });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
  });
  req.end();
  return { req, response };
}

/** The session id inside a signed cookie value (`s:<id>.<signature>`, URL-encoded). */
export const sidOf = (cookie: string): string =>
  /^s:([^.]+)\./.exec(decodeURIComponent(cookie.split('=')[1] as string))?.[1] as string;

export { until } from './until';
