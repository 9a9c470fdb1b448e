import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Where Gather serves its API; the simulator answers under the same path. */
export const SIMULATOR_BASE_PATH = '/qsi/gather';

/** A screening question as the demo shows it. */
export interface DemoQuestion {
  id: string;
  text: string;
  category: string;
  responseType: 'video' | 'text' | 'multiple_choice';
  maxDurationSeconds?: number;
  options?: string[];
}

export const DEMO_QUESTIONS: readonly DemoQuestion[] = [
  {
    id: 'q_01',
    text: 'Tell us about a project you are proud of and the part you played in it.',
    category: 'Experience',
    responseType: 'video',
    maxDurationSeconds: 120,
  },
  {
    id: 'q_02',
    text: 'Describe a time you disagreed with a colleague. How did you resolve it?',
    category: 'Teamwork',
    responseType: 'video',
    maxDurationSeconds: 90,
  },
  {
    id: 'q_03',
    text: 'Why do you want to work in this role?',
    category: 'Motivation',
    responseType: 'text',
  },
  {
    id: 'q_04',
    text: 'How many years of customer-facing experience do you have?',
    category: 'Screening',
    responseType: 'multiple_choice',
    options: ['Less than 1', '1 to 3', '3 to 5', 'More than 5'],
  },
];

/**
 * A path on which the simulator answers as Gather does when it refuses the server's key, so the
 * demo can show what the browser gets then (`502 UPSTREAM_UNAUTHORIZED`, not a 401).
 */
export const REVOKED_KEY_PATH = '/simulate/revoked-key';

/**
 * A path on which the simulator answers as Gather does when the key has used up its share:
 * `429` with `Retry-After: THROTTLE_SECONDS`, so the demo can show the BFF pausing the key
 * (`UPSTREAM_THROTTLED` with a countdown for every call until the wait is over).
 */
export const THROTTLE_PATH = '/simulate/throttle';
export const THROTTLE_SECONDS = 20;

export interface GatherSimulator {
  /** `http://127.0.0.1:<port>/qsi/gather`, ready to be GATHER_BASE_URL. */
  readonly baseUrl: string;
  close(): Promise<void>;
}

interface Failure {
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

const MISSING_KEY: Failure = {
  status: 401,
  code: 'UNAUTHORIZED',
  message: 'Missing authentication header',
  details: { expectedFormat: 'x-api-key header' },
};
const INVALID_KEY: Failure = { status: 401, code: 'UNAUTHORIZED', message: 'Invalid API key' };
const NOT_FOUND: Failure = { status: 404, code: 'NOT_FOUND', message: 'Resource not found' };
const THROTTLED: Failure = {
  status: 429,
  code: 'RATE_LIMIT_EXCEEDED',
  message: 'Too many requests for this API key',
};
const METHOD_NOT_ALLOWED: Failure = {
  status: 405,
  code: 'METHOD_NOT_ALLOWED',
  message: 'Method not allowed',
};

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function send(res: ServerResponse, status: number, body: unknown, requestId: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-request-id': requestId,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

function fail(res: ServerResponse, failure: Failure, requestId: string): void {
  const error: Record<string, unknown> = { code: failure.code, message: failure.message };
  if (failure.details) error.details = failure.details;
  send(
    res,
    failure.status,
    { error, meta: { requestId, timestamp: new Date().toISOString() } },
    requestId,
  );
}

/** `GET /questions` or `GET /questions/<id>`: what to answer, or undefined for another path. */
function questionsRoute(path: string): { body: unknown } | Failure | undefined {
  const rest = path.slice(SIMULATOR_BASE_PATH.length);
  if (rest === '/questions') return { body: DEMO_QUESTIONS };
  const id = /^\/questions\/([^/]+)$/.exec(rest)?.[1];
  if (id === undefined) return undefined;
  const question = DEMO_QUESTIONS.find((q) => q.id === id);
  return question ? { body: question } : NOT_FOUND;
}

/**
 * A small stand-in for Gather: `GET /questions` and `GET /questions/<id>` behind the `x-api-key`
 * check, Gather's refusal of a key on REVOKED_KEY_PATH, Gather asking to wait on THROTTLE_PATH, and Gather's error envelopes (a fresh
 * request id each time) for everything else. Demo and tests only.
 */
export async function startGatherSimulator(options: { apiKey: string }): Promise<GatherSimulator> {
  // Comparing digests keeps the check constant-time whatever the length of the presented key.
  const expected = digest(options.apiKey);
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    const requestId = randomUUID();
    const presented = req.headers['x-api-key'];
    if (typeof presented !== 'string' || presented === '') return fail(res, MISSING_KEY, requestId);
    if (!timingSafeEqual(digest(presented), expected)) return fail(res, INVALID_KEY, requestId);
    const path = new URL(req.url ?? '/', 'http://simulator').pathname;
    if (path === `${SIMULATOR_BASE_PATH}${REVOKED_KEY_PATH}`) {
      return fail(res, INVALID_KEY, requestId);
    }
    if (path === `${SIMULATOR_BASE_PATH}${THROTTLE_PATH}`) {
      res.setHeader('retry-after', String(THROTTLE_SECONDS));
      return fail(res, THROTTLED, requestId);
    }
    const route = path.startsWith(`${SIMULATOR_BASE_PATH}/`) ? questionsRoute(path) : undefined;
    if (route === undefined) return fail(res, NOT_FOUND, requestId);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return fail(res, METHOD_NOT_ALLOWED, requestId);
    }
    if ('status' in route) return fail(res, route, requestId);
    send(res, 200, route.body, requestId);
  };

  const server = createServer(handle);
  // Loopback only: the simulator is reached by the BFF in the same process, never by a browser.
  const host = '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://${host}:${port}${SIMULATOR_BASE_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // The BFF keeps upstream connections alive; they would hold close() open.
        server.closeAllConnections();
      }),
  };
}
