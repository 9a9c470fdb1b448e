// The header work of the two reference proxies (bare-proxy.mjs, engine-proxy.mjs): the least a
// proxy in front of Gather must do. Its own copy of the lists, on purpose: the references must
// not import the product they are measured against.

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];
const DROPPED_UP = new Set([
  ...HOP_BY_HOP,
  'host',
  'cookie',
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);
const DROPPED_DOWN = new Set([...HOP_BY_HOP, 'set-cookie', 'x-api-key']);

/** `headers` without the dropped ones and without any that `Connection` names. */
function kept(headers, dropped) {
  const named = new Set((headers.connection ?? '').toLowerCase().split(/\s*,\s*/));
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!dropped.has(name) && !named.has(name)) out[name] = value;
  }
  return out;
}

/**
 * What Gather receives: the browser's headers without its cookie, credentials and hop-by-hop
 * headers, with the server's key, a request id and the proxy's own x-forwarded-*.
 */
export function headersUp(req, { apiKey, requestId, publicHost, host }) {
  return {
    ...kept(req.headers, DROPPED_UP),
    ...(host ? { host } : {}),
    'x-api-key': apiKey,
    'x-request-id': requestId,
    'x-forwarded-for': req.socket.remoteAddress,
    'x-forwarded-proto': 'http',
    'x-forwarded-host': publicHost,
  };
}

/** What the browser receives: Gather's headers without set-cookie and hop-by-hop headers. */
export function headersDown(upstreamRes, requestId) {
  const headers = kept(upstreamRes.headers, DROPPED_DOWN);
  headers['x-request-id'] ??= requestId;
  return headers;
}
