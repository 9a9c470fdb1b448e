// The baseline: the least a keep-alive proxy in front of Gather must do, on bare node:http.
// /api/gather/<path> goes to GATHER_BASE_URL/<path> with the header work of
// baseline-headers.mjs. No session, CSRF, rate limit or log: what the BFF costs beyond this is
// what the bench measures.
import { randomUUID } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import { headersDown, headersUp } from './baseline-headers.mjs';

const { PORT, GATHER_BASE_URL, GATHER_API_KEY, PUBLIC_URL } = process.env;
const upstream = new URL(GATHER_BASE_URL);
const publicHost = new URL(PUBLIC_URL).host;
const PREFIX = '/api/gather/';

const agent = new Agent({ keepAlive: true, scheduling: 'lifo' });

/** How a reused keep-alive connection fails when Gather closed it as the request went out. */
const UNANSWERED = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE']);

/**
 * Sends the request to Gather. A GET or HEAD whose connection failed before any answer is sent
 * once more on a new connection, as the BFF does (docs/benchmarks.md, "Targets"): Gather (nginx,
 * `keepalive_timeout`) closes a connection idle for 75 s, and a request that leaves on it just
 * then meets a reset; without the retry this reference answered 502 where the BFF answers 200.
 */
function forward(req, res, requestId, retried) {
  const upstreamReq = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: `${upstream.pathname}/${req.url.slice(PREFIX.length)}`,
      agent: retried ? false : agent,
      headers: headersUp(req, {
        apiKey: GATHER_API_KEY,
        requestId,
        publicHost,
        host: upstream.host,
      }),
    },
    (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode, headersDown(upstreamRes, requestId));
      upstreamRes.pipe(res);
    },
  );
  upstreamReq.on('error', (err) => {
    const idempotent = req.method === 'GET' || req.method === 'HEAD';
    if (!retried && idempotent && !res.headersSent && UNANSWERED.has(err.code)) {
      forward(req, res, requestId, true);
    } else if (res.headersSent) res.destroy();
    else res.writeHead(502).end();
  });
  if (retried) upstreamReq.end();
  else req.pipe(upstreamReq);
}

const server = createServer((req, res) => {
  if (!req.url.startsWith(PREFIX)) {
    res.writeHead(404).end();
    return;
  }
  forward(req, res, randomUUID(), false);
});
server.listen(Number(PORT), '127.0.0.1');
