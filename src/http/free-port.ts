import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';

/**
 * A port that was free a moment ago on `host`: listen on 0, note the port, close. For servers that
 * must be told their port before they start (the demo's PUBLIC_URL, test and bench children).
 * Plain erasable TypeScript with no imports of the project: the bench's .mjs scripts import it
 * as it is.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const probe = createServer();
  probe.listen(0, host);
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}
