// Starts, in this one process, what the benchmark loads: a stand-in Gather, a bare node:http
// keep-alive proxy (the baseline) and the built BFF in front of the same Gather. Prints their
// URLs and a signed-in session cookie as one JSON line, then serves until killed.
import { createRequire } from 'node:module';
import { createServer, request, Agent } from 'node:http';
import { createWriteStream } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { createApp } = require('../dist/bootstrap.js');
const { loadConfig } = require('../dist/config/load-config.js');
const argon2 = require('argon2');

const KEY = `qapi_${randomBytes(24).toString('base64url')}`;
const PAYLOAD = JSON.stringify({
  data: Array.from({ length: 10 }, (_, i) => ({ id: i, text: `Question ${i}?`, type: 'text' })),
});

const listen = (server) =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));

const upstream = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'bench' });
    res.end(PAYLOAD);
  });
});
const upstreamPort = await listen(upstream);

// The baseline: the least a keep-alive proxy can do — rewrite the path, add the key, pipe.
const agent = new Agent({ keepAlive: true, scheduling: 'lifo' });
const baseline = createServer((req, res) => {
  const upstreamReq = request(
    {
      host: '127.0.0.1',
      port: upstreamPort,
      method: req.method,
      path: `/qsi/gather${req.url.slice('/api/gather'.length)}`,
      headers: { ...req.headers, host: `127.0.0.1:${upstreamPort}`, 'x-api-key': KEY },
      agent,
    },
    (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode, upstreamRes.headers);
      upstreamRes.pipe(res);
    },
  );
  upstreamReq.on('error', () => res.destroy());
  req.pipe(upstreamReq);
});
const baselinePort = await listen(baseline);

const dir = await mkdtemp(join(tmpdir(), 'gather-bench-'));
const usersFile = join(dir, 'users.json');
const password = randomBytes(12).toString('base64url');
await writeFile(
  usersFile,
  JSON.stringify({
    users: [
      {
        username: 'bench',
        passwordHash: await argon2.hash(password),
        name: 'Bench',
        email: 'b@example.com',
      },
    ],
  }),
);
const config = loadConfig(
  {
    APP_ENV: 'development',
    GATHER_API_KEY: KEY,
    GATHER_BASE_URL: `http://127.0.0.1:${upstreamPort}/qsi/gather`,
    SESSION_SECRET: randomBytes(32).toString('hex'),
    AUTH_LOCAL_USERS_FILE: usersFile,
    COOKIE_SECURE: 'false',
    METRICS_PORT: '0',
    // The limiter runs on every request but never refuses one: the benchmark measures its cost.
    RATE_LIMIT_USER_LIMIT: '1000000000',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  },
  join(import.meta.dirname, '..', 'config'),
);
const app = await createApp(config, { logDestination: createWriteStream('/dev/null') });
await app.listen(0, '127.0.0.1');
const bffPort = app.getHttpServer().address().port;

const login = await fetch(`http://127.0.0.1:${bffPort}/auth/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', origin: 'http://localhost:3000', 'x-csrf': '1' },
  body: JSON.stringify({ username: 'bench', password }),
});
if (login.status !== 200) throw new Error(`bench sign-in failed: ${login.status}`);
const cookie = login.headers.getSetCookie()[0].split(';')[0];

process.stdout.write(
  `${JSON.stringify({
    baseline: `http://127.0.0.1:${baselinePort}`,
    bff: `http://127.0.0.1:${bffPort}`,
    cookie,
  })}\n`,
);
process.on('SIGTERM', () => process.exit(0));
