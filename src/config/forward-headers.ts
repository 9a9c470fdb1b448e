import { HOP_BY_HOP } from '../http/hop-by-hop';

/**
 * What `proxy.forwardHeaders` may not add to the browser headers Gather receives
 * (docs/configuration.md, "YAML-only keys"; docs/contract.md, "Headers to Gather"), and why.
 * Checked once, at start-up: the request path only looks names up in the resulting set.
 */
const CREDENTIAL = 'a credential';
const HOP = 'a hop-by-hop header';
const BFF_OWN = 'the BFF sets or handles it itself';
const STEERS = 'it would let the browser choose routing, method or identity upstream';

const NEVER_FORWARDED = new Map<string, string>([
  ...['cookie', 'authorization', 'proxy-authorization', 'x-api-key'].map(
    (name) => [name, CREDENTIAL] as const,
  ),
  ...HOP_BY_HOP.map((name) => [name, HOP] as const),
  ...[
    'host',
    'content-length',
    'x-request-id',
    'traceparent',
    'tracestate',
    'baggage',
    'expect',
    'x-csrf',
  ].map((name) => [name, BFF_OWN] as const),
  ...[
    'x-http-method-override',
    'x-http-method',
    'x-method-override',
    'x-original-url',
    'x-rewrite-url',
    'x-rewrite-uri',
    'x-envoy-original-path',
    'x-host',
    'x-real-ip',
    'true-client-ip',
    'cf-connecting-ip',
    'forwarded',
    'via',
  ].map((name) => [name, STEERS] as const),
]);

/** Whole families refused besides the single names: any spelling a proxy may invent in them. */
const NEVER_FORWARDED_FAMILIES: readonly [RegExp, string][] = [
  [/^x-forwarded-/, 'x-forwarded-*'],
  [/^x-original-/, 'x-original-*'],
  [/-client-ip$/, '*-client-ip'],
  [/^x-.+-user$/, 'x-*-user'],
];

/** RFC 9110 §5.6.2 token: what a header name may be. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Why `name` may not be added to the forwarded headers; undefined when it may. */
export function forwardHeaderProblem(name: string): string | undefined {
  if (!TOKEN.test(name)) return `"${name}" is not a header name`;
  const lower = name.toLowerCase();
  const reason = NEVER_FORWARDED.get(lower);
  if (reason !== undefined) return `"${name}" is never forwarded to Gather (${reason})`;
  for (const [family, label] of NEVER_FORWARDED_FAMILIES) {
    if (family.test(lower)) return `"${name}" is never forwarded to Gather (${label}: ${STEERS})`;
  }
  return undefined;
}
