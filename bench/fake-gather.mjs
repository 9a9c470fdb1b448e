// Stand-in Gather on node:http, for machines without nginx (see gather-stand-in.mjs). Started
// with PORT and GATHER_API_KEY; answers until killed.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { QUESTIONS, QUESTIONS_PATH, REFUSALS } from './gather-stand-in.mjs';

const { PORT, GATHER_API_KEY } = process.env;

const statusOf = (req) => {
  if (req.method !== 'GET' || req.url.split('?')[0] !== QUESTIONS_PATH) return 404;
  if (req.headers.cookie !== undefined) return 400;
  return req.headers['x-api-key'] === GATHER_API_KEY ? 200 : 401;
};

const server = createServer((req, res) => {
  const status = statusOf(req);
  const body = status === 200 ? QUESTIONS : REFUSALS[status];
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-request-id': randomUUID(),
  });
  res.end(body);
});
// Longer than any client's idle keep-alive, like a real upstream's: no resets between rounds.
server.keepAliveTimeout = 75_000;
server.listen(Number(PORT), '127.0.0.1');
