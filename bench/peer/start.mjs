// Starts the peer (bench/peer/*.ts, compiled by `npm run bench` into bench/peer/dist) in its own
// process with plain `node`, as its team would, and signs in once: the bench reuses the cookie.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/http/free-port.ts';
import { start, waitUntil } from '../processes.mjs';

const MAIN = join(import.meta.dirname, 'dist', 'main.js');

/** `nodeArgs` go before the script (a profile's flags). */
export async function startPeer(name, dir, { gatherBaseUrl, apiKey }, nodeArgs = []) {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} missing: npx tsc -p bench/peer builds it`);
  const port = await freePort();
  const user = { username: 'bench', password: randomBytes(12).toString('base64url') };
  const proc = start(name, process.execPath, [...nodeArgs, MAIN], {
    env: {
      NODE_ENV: 'production',
      PORT: String(port),
      GATHER_BASE_URL: gatherBaseUrl,
      GATHER_API_KEY: apiKey,
      SESSION_SECRET: randomBytes(32).toString('hex'),
      PEER_USERNAME: user.username,
      PEER_PASSWORD: user.password,
      // Counted on every call, never reached.
      PEER_RATE_LIMIT: '1000000000',
    },
    cwd: join(import.meta.dirname, '..', '..'),
    logFile: join(dir, `${name}.log`),
  });
  const url = `http://127.0.0.1:${port}`;
  const login = () =>
    fetch(`${url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(user),
    });
  let res;
  await waitUntil(proc, 'answering', async () => (res = await login()).status === 200);
  const cookie = res.headers.getSetCookie()[0]?.split(';')[0];
  if (!cookie) throw new Error(`${name}: POST /login set no cookie`);
  return { proc, url, cookie };
}
