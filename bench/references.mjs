// Starts a reference proxy (bare-proxy.mjs or engine-proxy.mjs) in its own process; `nodeArgs`
// go before the script (a profile's flags).
import { join } from 'node:path';
import { freePort } from '../src/http/free-port.ts';
import { PUBLIC_URL } from './bff.mjs';
import { start, waitUntil } from './processes.mjs';

export async function startReference(name, script, dir, { gatherBaseUrl, apiKey }, nodeArgs = []) {
  const port = await freePort();
  const proc = start(name, process.execPath, [...nodeArgs, join(import.meta.dirname, script)], {
    env: { PORT: String(port), GATHER_BASE_URL: gatherBaseUrl, GATHER_API_KEY: apiKey, PUBLIC_URL },
    logFile: join(dir, `${name}.log`),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(proc, 'answering', async () => (await fetch(`${url}/healthz`)).status === 404);
  return { proc, url };
}
