// BENCH_OTLP=1: the OTLP/HTTP collector the exporting BFF sends its spans to, in a process of
// its own. It reads and drops every POST /v1/traces (parsing them would charge the shared CPUs to
// the BFF) and answers GET /stats with what it received. Started with PORT; runs until killed.
import { createServer } from 'node:http';

let exports = 0;
let bytes = 0;

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ exports, bytes }));
    return;
  }
  req.on('data', (chunk) => (bytes += chunk.length));
  req.on('end', () => {
    if (req.method === 'POST' && req.url === '/v1/traces') exports++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.keepAliveTimeout = 75_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
