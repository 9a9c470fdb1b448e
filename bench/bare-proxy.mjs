// The baseline: the least a keep-alive proxy in front of Gather must do, on bare node:http.
// /api/gather/<path> goes to GATHER_BASE_URL/<path> without the browser's cookie, credentials
// and hop-by-hop headers, with the server's x-api-key, a fresh x-request-id and the BFF's own
// x-forwarded-*; Gather's set-cookie and hop-by-hop headers stay out of the answer. No
// session, CSRF, rate limit or log: what the BFF costs beyond this is what the bench measures.
import { randomUUID } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';

const { PORT, GATHER_BASE_URL, GATHER_API_KEY, PUBLIC_URL } = process.env;
const upstream = new URL(GATHER_BASE_URL);
const publicHost = new URL(PUBLIC_URL).host;
const PREFIX = '/api/gather/';

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];
const DROPPED_UP = new Set([
  ...HOP_BY_HOP,
  'host',
  'cookie',
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);
const DROPPED_DOWN = new Set([...HOP_BY_HOP, 'set-cookie', 'x-api-key']);

/** `headers` without the dropped ones and without any that `Connection` names. */
function kept(headers, dropped) {
  const named = new Set((headers.connection ?? '').toLowerCase().split(/\s*,\s*/));
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!dropped.has(name) && !named.has(name)) out[name] = value;
  }
  return out;
}

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
      headers: {
        ...kept(req.headers, DROPPED_UP),
        host: upstream.host,
        'x-api-key': GATHER_API_KEY,
        'x-request-id': requestId,
        'x-forwarded-for': req.socket.remoteAddress,
        'x-forwarded-proto': 'http',
        'x-forwarded-host': publicHost,
      },
    },
    (upstreamRes) => {
      const headers = kept(upstreamRes.headers, DROPPED_DOWN);
      headers['x-request-id'] ??= requestId;
      res.writeHead(upstreamRes.statusCode, headers);
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
