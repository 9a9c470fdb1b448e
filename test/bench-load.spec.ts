import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The bench's wrk run (bench/load.mjs with bench/load-wrk.lua) against a loopback server: the
 * headers reach it, non-2xx answers are counted, the histogram holds every answer, and
 * BENCH_MAX_REQUESTS ends the run at its count. Needs Debian's wrk: `.ci/run` installs it, and
 * under CI=true a missing wrk fails; elsewhere the suite is skipped, saying so in one line.
 */
const WRK_MISSING = spawnSync('wrk', ['-v']).error !== undefined;
const describeWithWrk = WRK_MISSING && process.env.CI !== 'true' ? describe.skip : describe;
if (WRK_MISSING && process.env.CI !== 'true') {
  process.stderr.write('Skipping the bench load test: no wrk on PATH (apt-get install wrk).\n');
}
type Load = typeof import('../bench/load.mjs');
let load: Load;
let server: Server;
let url: string;
let dir: string;
const seen: IncomingHttpHeaders[] = [];

describeWithWrk('bench load with wrk', () => {
  beforeAll(async () => {
    load = await import('../bench/load.mjs');
    dir = mkdtempSync(join(tmpdir(), 'bench-load-'));
    let n = 0;
    // Every fourth answer is a 503.
    server = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(++n % 4 === 0 ? 503 : 200, { 'content-length': 2 }).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/gather/questions`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the headers, counts non-2xx answers and stops at the request count', async () => {
    const generator = load.pickLoadGenerator('wrk');
    if (generator.name === null) throw new Error('wrk is not installed (apt-get install wrk)');
    const result = await load.runLoad(
      generator,
      {
        url,
        headers: { cookie: 'gather.sid=s%3Aabc', origin: 'http://localhost:3000', 'x-csrf': '1' },
      },
      { connections: 1, seconds: 30, maxRequests: 200, logFile: join(dir, 'load.log') },
    );
    expect(result.requests).toBe(200);
    expect(result.non2xx).toBe(50);
    expect(result.errors).toBe(0);
    // Every answer, and wrk's coordinated-omission entries for the slow ones.
    expect(result.histogram.reduce((sum, [, count]) => sum + count, 0)).toBeGreaterThanOrEqual(200);
    expect(seen[0]).toMatchObject({
      cookie: 'gather.sid=s%3Aabc',
      origin: 'http://localhost:3000',
      'x-csrf': '1',
    });
  });
});
