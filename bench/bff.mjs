// The built BFF as an operator runs it: `node dist/main.js` with the container's Node flags, in
// its own process, configured only through the environment, its JSON request log (one line per
// request) going to a file.
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import argon2 from 'argon2';
import { freePort } from '../src/http/free-port.ts';
import { start, waitUntil } from './processes.mjs';

export const PUBLIC_URL = 'http://localhost:3000';
/** What the SPA sends with every proxied call and every POST /auth/*. */
export const SPA_HEADERS = { origin: PUBLIC_URL, 'x-csrf': '1' };

const ROOT = join(import.meta.dirname, '..');

/** A users file with one argon2id user in a team, and that user's credentials. */
export async function writeUsers(dir) {
  const user = { username: 'bench', password: randomBytes(12).toString('base64url') };
  const passwordHash = await argon2.hash(user.password, { type: argon2.argon2id });
  const file = join(dir, 'users.json');
  const users = [
    { username: user.username, passwordHash, name: 'Bench', email: 'b@example.com', team: 'red' },
  ];
  writeFileSync(file, JSON.stringify({ users }), { mode: 0o600 });
  return { file, ...user };
}

/**
 * The Node flags the container starts the BFF with (the Dockerfile's CMD), or
 * BENCH_BFF_NODE_FLAGS when set (a profile, another heap setting; empty for none).
 */
export function nodeFlags() {
  const override = process.env.BENCH_BFF_NODE_FLAGS;
  if (override !== undefined) return override.split(' ').filter(Boolean);
  const cmd = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').match(/^CMD (\[.*\])$/m);
  const argv = JSON.parse(cmd[1]);
  return argv.slice(1, argv.indexOf('dist/main.js'));
}

/**
 * The repository's config/ with one environment more, `bench`: a user and a team quota that
 * never refuse, so every call counts in both as it would in production.
 */
function writeConfig(dir) {
  const config = join(dir, 'config');
  mkdirSync(config, { recursive: true });
  copyFileSync(join(ROOT, 'config', 'default.yaml'), join(config, 'default.yaml'));
  const quotas = 'quotas:\n  user: { day: 1000000000 }\n  team: { month: 1000000000 }\n';
  writeFileSync(join(config, 'bench.yaml'), quotas);
  return dir;
}

/**
 * Starts `dist/main.js`; resolves once /readyz says the key and the stores are ready. With
 * `otlpEndpoint`, it exports its spans there; `nodeArgs` go after the start command's flags;
 * `root` is another checkout whose build to run instead (BENCH_BEFORE).
 */
export async function startBff(
  name,
  dir,
  { gatherBaseUrl, apiKey, usersFile, redisUrl, otlpEndpoint, nodeArgs = [], root = ROOT },
) {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    APP_ENV: 'bench',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL,
    COOKIE_SECURE: 'false',
    SESSION_SECRET: randomBytes(32).toString('hex'),
    GATHER_API_KEY: apiKey,
    GATHER_BASE_URL: gatherBaseUrl,
    AUTH_LOCAL_USERS_FILE: usersFile,
    // Metrics stay on, as in production: the request metrics are part of the hot path.
    METRICS_PORT: String(await freePort()),
    // The limiter runs on every request but never refuses one: the bench measures its cost.
    RATE_LIMIT_USER_LIMIT: '1000000000',
    LOG_LEVEL: 'info',
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    ...(otlpEndpoint ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint } : {}),
  };
  const proc = start(
    name,
    process.execPath,
    [...nodeFlags(), ...nodeArgs, join(root, 'dist', 'main.js')],
    {
      env,
      // config/ is read from the working directory.
      cwd: writeConfig(dir),
      logFile: join(dir, `${name}.log`),
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(proc, 'ready', async () => (await fetch(`${url}/readyz`)).status === 200);
  return { proc, url };
}

/** Signs in as the SPA does; returns the session cookie (`name=value`). */
export async function signIn(url, { username, password }) {
  const res = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { ...SPA_HEADERS, 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const cookie = res.headers.getSetCookie()[0]?.split(';')[0];
  if (res.status !== 200 || !cookie) {
    throw new Error(`sign-in at ${url} answered ${res.status}: ${await res.text()}`);
  }
  return cookie;
}
