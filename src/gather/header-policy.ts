import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** RFC 9110 §7.6.1 hop-by-hop headers, plus the non-standard ones proxies also drop. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

/**
 * Browser headers that never reach Gather (docs/contract.md, "Headers to Gather"): credentials
 * (the BFF's session is not Gather's), the forwarding headers the BFF sets alone, headers that
 * would let the browser pick the method, path or client identity upstream, the browser's trace
 * context (the BFF sends its own `traceparent`, and the browser's `tracestate` only when it
 * continued the browser's trace; `baggage` never), the BFF's own CSRF marker, and `expect`
 * (the body is already buffered).
 */
const DROP_TO_GATHER = new Set([
  ...HOP_BY_HOP,
  'host',
  'cookie',
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'forwarded',
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-url',
  'x-rewrite-url',
  'traceparent',
  'tracestate',
  'baggage',
  'x-csrf',
  'expect',
  'content-length',
]);

/**
 * Gather headers that never reach the browser (docs/contract.md, "Headers to the browser"):
 * cookies and keys, what describes Gather's servers, cross-origin grants the BFF's origin never
 * makes, and every security header, since the BFF's own always win; so do its `RateLimit-*`,
 * which describe its own limits. `location` is rewritten apart (see gatherLocation).
 */
const DROP_TO_BROWSER = new Set([
  ...HOP_BY_HOP,
  'set-cookie',
  'x-api-key',
  'x-powered-by',
  'server',
  'x-request-id',
  'location',
  'clear-site-data',
  'alt-svc',
  'content-security-policy',
  'content-security-policy-report-only',
  'strict-transport-security',
  'x-frame-options',
  'x-content-type-options',
  'x-xss-protection',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-permitted-cross-domain-policies',
  'origin-agent-cluster',
  'referrer-policy',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
]);

/** Whole families of Gather headers that never reach the browser. */
const DROPPED_PREFIXES_TO_BROWSER = ['access-control-', 'cross-origin-'];

/** `Connection` values that name no header besides the hop-by-hop ones: nearly every message. */
const PLAIN_CONNECTION = new Set(['keep-alive', 'close', 'Keep-Alive', 'Close']);

/** Header names listed in a `Connection` header are hop-by-hop for this message too. */
function connectionListed(headers: IncomingHttpHeaders): Set<string> | undefined {
  const value = headers.connection;
  if (!value || PLAIN_CONNECTION.has(value)) return undefined;
  return new Set(value.split(',').map((t) => t.trim().toLowerCase()));
}

export interface ForwardContext {
  readonly apiKey: string;
  readonly requestId: string;
  /** The client address as Express determines it under `trust proxy`. */
  readonly clientIp: string;
  /** The browser request's scheme as Express determines it. */
  readonly proto: string;
  /** Host of PUBLIC_URL. */
  readonly publicHost: string;
  /** Length of the buffered body; undefined for a request without one. */
  readonly bodyLength: number | undefined;
  /** The BFF's `traceparent` for this call: the forwarder sends one on every request. */
  readonly traceparent?: string;
  /** The browser's `tracestate`, only when its traceparent was continued. */
  readonly tracestate?: string;
}

/** The headers Gather receives: the browser's, minus the refused ones, plus the BFF's own. */
export function headersToGather(
  incoming: IncomingHttpHeaders,
  ctx: ForwardContext,
): OutgoingHttpHeaders {
  const listed = connectionListed(incoming);
  const out: OutgoingHttpHeaders = {};
  for (const name in incoming) {
    if (DROP_TO_GATHER.has(name) || listed?.has(name)) continue;
    out[name] = incoming[name];
  }
  out['x-api-key'] = ctx.apiKey;
  out['x-request-id'] = ctx.requestId;
  out['x-forwarded-for'] = ctx.clientIp;
  out['x-forwarded-proto'] = ctx.proto;
  out['x-forwarded-host'] = ctx.publicHost;
  if (ctx.traceparent !== undefined) out.traceparent = ctx.traceparent;
  if (ctx.tracestate !== undefined) out.tracestate = ctx.tracestate;
  if (ctx.bodyLength !== undefined) out['content-length'] = String(ctx.bodyLength);
  return out;
}

/** The headers the browser receives from a Gather response. */
export function headersToBrowser(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = connectionListed(upstream);
  const out: OutgoingHttpHeaders = {};
  for (const name in upstream) {
    if (DROP_TO_BROWSER.has(name) || listed?.has(name)) continue;
    if (DROPPED_PREFIXES_TO_BROWSER.some((prefix) => name.startsWith(prefix))) continue;
    out[name] = upstream[name];
  }
  return out;
}
