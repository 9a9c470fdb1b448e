import type { IncomingHttpHeaders, OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';
import { HOP_BY_HOP } from '../http/hop-by-hop';
import { privateCacheControl, varyWithCookie } from './private-cache';

/**
 * The browser's own headers that may reach Gather (docs/contract.md, "Headers to Gather"): an
 * allow-list, so no name a browser or a proxy invents can choose routing, method or identity
 * upstream. The BFF adds its own (key, request id, forwarding headers, trace context, the
 * body's length) after these; `proxy.forwardHeaders` may add names (see config/forward-headers.ts).
 */
const FORWARDED_TO_GATHER = [
  'accept',
  'accept-encoding',
  'accept-language',
  'content-type',
  'content-encoding',
  'cache-control',
  'pragma',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'if-range',
  'range',
  'prefer',
  'idempotency-key',
  'user-agent',
];

/** The allow-list with the operator's `proxy.forwardHeaders` (already checked and lower-cased). */
export function forwardedToGather(extra: readonly string[]): ReadonlySet<string> {
  return new Set([...FORWARDED_TO_GATHER, ...extra]);
}

/**
 * Gather headers that never reach the browser (docs/contract.md, "Headers to the browser"):
 * cookies and keys, what describes Gather's servers, cross-origin grants the BFF's origin never
 * makes, headers that set state for the whole origin or steer the page, and every security
 * header, since the BFF's own always win; `RateLimit-Policy` and `RateLimit` are merged with
 * the BFF's own items (capacity/rate-limit-fields.ts), and the older `RateLimit-Limit`,
 * `-Remaining` and `-Reset` are never sent. `location` is rewritten apart (see gatherLocation); `cache-control` and `vary` are
 * made private (see private-cache.ts).
 */
const DROP_TO_BROWSER = new Set([
  ...HOP_BY_HOP,
  'set-cookie',
  'x-api-key',
  'x-powered-by',
  'server',
  'x-request-id',
  'location',
  'cache-control',
  'vary',
  'clear-site-data',
  'alt-svc',
  'nel',
  'report-to',
  'reporting-endpoints',
  'service-worker-allowed',
  'accept-ch',
  'critical-ch',
  'refresh',
  'origin-agent-cluster',
  'permissions-policy',
  'permissions-policy-report-only',
  'feature-policy',
  'document-policy',
  'document-policy-report-only',
  'speculation-rules',
  'link',
  'public-key-pins',
  'public-key-pins-report-only',
  'expect-ct',
  'content-security-policy',
  'content-security-policy-report-only',
  'strict-transport-security',
  'x-frame-options',
  'x-content-type-options',
  'x-xss-protection',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-permitted-cross-domain-policies',
  'referrer-policy',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'ratelimit-policy',
  'ratelimit',
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

/**
 * The headers Gather receives: the browser's that `forwarded` names (see forwardedToGather),
 * unless its `Connection` header lists them, plus the BFF's own.
 */
export function headersToGather(
  incoming: IncomingHttpHeaders,
  ctx: ForwardContext,
  forwarded: ReadonlySet<string>,
): OutgoingHttpHeaders {
  const listed = connectionListed(incoming);
  const out: OutgoingHttpHeaders = {};
  for (const name in incoming) {
    if (!forwarded.has(name) || listed?.has(name)) continue;
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

/**
 * A head as `writeHead` takes it flat: name, value, name, value… Node reads it in one pass, with
 * no object to build and enumerate per answer; the names are lower case and each comes once.
 */
export type HeaderLines = OutgoingHttpHeader[];

/**
 * The headers the browser receives from a Gather response, made private to its user: whatever
 * Gather says about caching, no shared cache may keep it, and the browser's own keeps it apart
 * per session (`Vary: Cookie`).
 */
export function headersToBrowser(upstream: IncomingHttpHeaders): HeaderLines {
  const listed = connectionListed(upstream);
  const out: HeaderLines = [];
  for (const name in upstream) {
    if (DROP_TO_BROWSER.has(name) || listed?.has(name)) continue;
    if (DROPPED_PREFIXES_TO_BROWSER.some((prefix) => name.startsWith(prefix))) continue;
    const value = upstream[name];
    if (value !== undefined) out.push(name, value);
  }
  out.push(
    'cache-control',
    privateCacheControl(listed?.has('cache-control') ? undefined : upstream['cache-control']),
    'vary',
    varyWithCookie(listed?.has('vary') ? undefined : upstream.vary),
  );
  return out;
}

/** Sets `name` (lower case) in `lines`: in its place when it is there, else at the end. */
export function setLine(lines: HeaderLines, name: string, value: OutgoingHttpHeader): void {
  for (let i = 0; i < lines.length; i += 2) {
    if (lines[i] === name) {
      lines[i + 1] = value;
      return;
    }
  }
  lines.push(name, value);
}
