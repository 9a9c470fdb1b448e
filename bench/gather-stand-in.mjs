// The Gather the benchmark proxies to, in a process of its own: nginx answering from its
// configuration when nginx is installed (so the stand-in costs the shared CPUs as little as
// possible), otherwise fake-gather.mjs on node:http. Both answer alike: the questions below with a
// fresh x-request-id, 401 without the server's key and 400 when a browser cookie got through.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../src/http/free-port.ts';
import { start, waitUntil } from './processes.mjs';

export const QUESTIONS_PATH = '/qsi/gather/questions';

export const QUESTIONS = JSON.stringify({
  data: Array.from({ length: 10 }, (_, i) => ({ id: i, text: `Question ${i}?`, type: 'text' })),
});

const envelope = (code, message) =>
  JSON.stringify({ error: { code, message }, meta: { requestId: 'bench', timestamp: '' } });

export const REFUSALS = {
  400: envelope('BAD_REQUEST', 'A browser cookie reached Gather'),
  401: envelope('UNAUTHORIZED', 'Invalid API key'),
  404: envelope('NOT_FOUND', 'Not found'),
};

const nginxPath = () =>
  process.env.BENCH_NGINX ??
  ['nginx', '/usr/sbin/nginx'].find((bin) => spawnSync(bin, ['-v']).status === 0);

const quoted = (s) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

const nginxConfig = (dir, port, apiKey) => `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
  keepalive_timeout 75s;
  keepalive_requests 100000000;
  default_type application/json;
  server {
    listen 127.0.0.1:${port};
    add_header x-request-id $request_id always;
    location = ${QUESTIONS_PATH} {
      if ($http_cookie) { return 400 ${quoted(REFUSALS[400])}; }
      if ($http_x_api_key != "${apiKey}") { return 401 ${quoted(REFUSALS[401])}; }
      return 200 ${quoted(QUESTIONS)};
    }
    location / { return 404 ${quoted(REFUSALS[404])}; }
  }
}
`;

/** Starts the stand-in; resolves once it answers the key-bearing request with 200. */
export async function startGather(dir, apiKey) {
  const port = await freePort();
  const nginx = nginxPath();
  let proc;
  if (nginx) {
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, nginxConfig(dir, port, apiKey));
    proc = start('gather (nginx)', nginx, ['-p', dir, '-e', join(dir, 'nginx.log'), '-c', conf], {
      logFile: join(dir, 'nginx.log'),
    });
  } else {
    proc = start(
      'gather (node)',
      process.execPath,
      [join(import.meta.dirname, 'fake-gather.mjs')],
      {
        env: { PORT: String(port), GATHER_API_KEY: apiKey },
        logFile: join(dir, 'fake-gather.log'),
      },
    );
  }
  const baseUrl = `http://127.0.0.1:${port}/qsi/gather`;
  const probe = async () =>
    (await fetch(`${baseUrl}/questions`, { headers: { 'x-api-key': apiKey } })).status === 200;
  await waitUntil(proc, 'answering', probe);
  return { proc, baseUrl };
}
