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

const server = createServer((req, res) => {
  if (!req.url.startsWith(PREFIX)) {
    res.writeHead(404).end();
    return;
  }
  const requestId = randomUUID();
  const upstreamReq = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: `${upstream.pathname}/${req.url.slice(PREFIX.length)}`,
      agent,
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
  upstreamReq.on('error', () => {
    if (res.headersSent) res.destroy();
    else res.writeHead(502).end();
  });
  req.pipe(upstreamReq);
});
server.listen(Number(PORT), '127.0.0.1');
