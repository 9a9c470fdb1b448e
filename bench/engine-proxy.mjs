// The forwarding engine alone: http-proxy-middleware on bare node:http, used as the BFF uses it
// (a URL target, changeOrigin, a keep-alive agent, the response handled in its `proxyRes`
// event), with the baseline's header work and nothing else. What the BFF can reach while this
// library forwards its calls: the bench shows it beside the bare proxy.
import { randomUUID } from 'node:crypto';
import { Agent, createServer } from 'node:http';
import { createProxyMiddleware, proxyEventsPlugin } from 'http-proxy-middleware';
import { headersDown, headersUp } from './baseline-headers.mjs';

const { PORT, GATHER_BASE_URL, GATHER_API_KEY, PUBLIC_URL } = process.env;
const publicHost = new URL(PUBLIC_URL).host;
const PREFIX = '/api/gather/';
const REQUEST_ID = Symbol('requestId');

const RETRIED = Symbol('retried');
/** How a reused keep-alive connection fails when Gather closed it as the request went out. */
const UNANSWERED = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE']);

const options = {
  target: new URL(GATHER_BASE_URL),
  changeOrigin: true,
  agent: new Agent({ keepAlive: true, scheduling: 'lifo' }),
  selfHandleResponse: true,
  ejectPlugins: true,
  plugins: [proxyEventsPlugin],
  on: {
    proxyRes: (upstreamRes, req, res) => {
      res.writeHead(upstreamRes.statusCode, headersDown(upstreamRes, req[REQUEST_ID]));
      upstreamRes.pipe(res);
    },
    // A GET or HEAD whose connection failed before any answer goes once more on a new
    // connection, as the BFF drives the engine (see bare-proxy.mjs).
    error: (err, req, res) => {
      const idempotent = req.method === 'GET' || req.method === 'HEAD';
      if (!req[RETRIED] && idempotent && !res.headersSent && UNANSWERED.has(err.code)) {
        req[RETRIED] = true;
        void reconnect(req, res);
      } else if (res.headersSent) res.destroy();
      else res.writeHead(502).end();
    },
  },
};
const proxy = createProxyMiddleware(options);
const reconnect = createProxyMiddleware({ ...options, agent: false });

const server = createServer((req, res) => {
  if (!req.url.startsWith(PREFIX)) {
    res.writeHead(404).end();
    return;
  }
  req[REQUEST_ID] = randomUUID();
  req.headers = headersUp(req, { apiKey: GATHER_API_KEY, requestId: req[REQUEST_ID], publicHost });
  req.url = `/${req.url.slice(PREFIX.length)}`;
  void proxy(req, res);
});
server.listen(Number(PORT), '127.0.0.1');
