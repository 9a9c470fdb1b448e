import fc from 'fast-check';
import { posix } from 'node:path';

/**
 * How many cases each property runs: `FUZZ_RUNS` (`npm run test:fuzz` sets 10 000), else the
 * small count a property gets in `npm test`.
 */
export function fuzzRuns(defaultRuns: number): number {
  const runs = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(runs) && runs > 0 ? runs : defaultRuns;
}

/**
 * Path pieces that have turned a proxy's view of a path away from its upstream's somewhere:
 * dot segments in every spelling, `;` parameters, encoded and double-encoded separators,
 * backslashes, overlong UTF-8, encoded unreserved characters, unicode look-alikes, control
 * characters, `#` and `?`, and plain names that should pass.
 */
const PATH_PIECES = [
  ...['a', 'questions', '1', 'v2', 'x-y_z~', 'a%20b', '%3B', '%3F', '%23', '%C3%A9', '%e4%b8%ad'],
  ...['.', '..', '%2e', '%2E', '%2e%2e', '.%2e', '%2e.', '%252e', '%252E%252E', '%u002e'],
  ...['/', '//', '%2f', '%2F', '%252f', '%5c', '%5C', '%255c', '\\', '..\\', '\\..'],
  ...[';', ';x=1', '..;', '.;', ';jsessionid=1'],
  ...['%c0%ae', '%C0%AE%C0%AE', '%c0%af', '%c1%9c', '%e0%80%ae', '%f0%80%80%ae', '%ef%bc%8f'],
  ...['%71', '%7E', '%7e', '%5F', '%2D', '%30', '%41', '%61'],
  ...['%', '%g1', '%e', '%25', '%2', '%%', '%00', '%0a', '%0D', '%1f', '%7f', '%7F'],
  ...['\u00e9', '\u4e2d', '\uff0e', '\uff0f', '\u2024', '\u0000', '\t', ' ', '\x7f', '\x01'],
  ...['#', '#frag', '?', '?q=1', '?x=%2F&y=..', ':', '@', '!', '$', '&', "'", '(', '*', '+', ','],
  ...['=', '~', '"', '<', '>', '{', '}', '|', '^', '`', '[', ']'],
];

const piece = fc.constantFrom(...PATH_PIECES);

/** A request target below `prefix`: pieces joined, sometimes with `/` between them. */
export function requestTarget(prefix = '/api/gather/'): fc.Arbitrary<string> {
  return fc
    .array(fc.tuple(piece, fc.boolean()), { minLength: 1, maxLength: 10 })
    .map((parts) => prefix + parts.map(([p, slash]) => (slash ? `${p}/` : p)).join(''));
}

/** Bytes of a percent-decoding that takes any `%XX` and leaves everything else as it is. */
function percentBytes(s: string): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const hex = s.slice(i + 1, i + 3);
    if (s[i] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      for (const b of Buffer.from(s[i] as string, 'utf8')) bytes.push(b);
    }
  }
  return bytes;
}

/**
 * UTF-8 as a careless decoder reads it: overlong forms are accepted (`C0 AE` is `.`, `C0 AF`
 * is `/`), which is how old servers were walked out of their roots.
 */
function lenientUtf8(bytes: number[]): string {
  let out = '';
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i] as number;
    const cont = (k: number): number => (bytes[i + k] ?? 0) & 0x3f;
    if (b >= 0xf0 && b < 0xf8 && i + 3 < bytes.length) {
      out += String.fromCodePoint(((b & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3));
      i += 4;
    } else if (b >= 0xe0 && b < 0xf0 && i + 2 < bytes.length) {
      out += String.fromCodePoint(((b & 0x0f) << 12) | (cont(1) << 6) | cont(2));
      i += 3;
    } else if (b >= 0xc0 && b < 0xe0 && i + 1 < bytes.length) {
      out += String.fromCodePoint(((b & 0x1f) << 6) | cont(1));
      i += 2;
    } else {
      out += String.fromCharCode(b);
      i += 1;
    }
  }
  return out;
}

const lenientDecode = (s: string): string => lenientUtf8(percentBytes(s));

/**
 * The segments an upstream server might route `path` (below the base) to, one list per way of
 * reading it: as-is; with `;` parameters stripped (Tomcat, Jetty), decoded once (overlong UTF-8
 * accepted) and `\` taken as `/` (IIS); and decoded twice. Each is resolved as a server resolves
 * dot segments, and its segments compared decoded. The proxy judged the first reading.
 */
export function readingsOf(path: string): string[][] {
  const stripped = path
    .split('/')
    .map((s) => s.split(';')[0] as string)
    .join('/');
  const once = lenientDecode(stripped).replace(/\\/g, '/');
  const twice = lenientDecode(once).replace(/\\/g, '/');
  const resolved = (p: string): string[] => posix.normalize(`/${p}`).split('/').slice(1);
  return [resolved(path).map(lenientDecode), resolved(once), resolved(twice)];
}

/** The segments the allow-list judged: the raw path split on `/`, each strictly decoded. */
export function judgedSegments(path: string): string[] {
  return path
    .split('/')
    .slice(1)
    .map((s) => decodeURIComponent(s));
}

/** Header names that must never reach Gather from the browser (docs/contract.md, "Headers to Gather"). */
export const NEVER_FROM_BROWSER = [
  'cookie',
  'authorization',
  'proxy-authorization',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-url',
  'x-rewrite-url',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-forwarded-port',
  'x-client-ip',
  'true-client-ip',
  'x-real-ip',
  'forwarded',
  'baggage',
  'x-csrf',
];

/** Headers only the BFF sets; the browser's values are dropped first. */
export const SET_BY_BFF = [
  'x-api-key',
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
];

const headerName = fc.constantFrom(
  ...[...NEVER_FROM_BROWSER, ...SET_BY_BFF, 'connection', 'traceparent', 'tracestate'],
  ...['x-custom', 'accept', 'x-hop', 'if-none-match', 'user-agent', 'accept-language'],
  ...['via', 'x-original-method', 'x-forwarded-user', 'cf-connecting-ip', 'range'],
);

/** A header name in any capitalisation: Node folds it, the policy must not depend on it. */
const caseVariant = (name: string): fc.Arbitrary<string> =>
  fc
    .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
    .map((upper) => [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));

const connectionList = fc
  .array(fc.constantFrom(...SET_BY_BFF, 'x-custom', 'accept', 'x-hop', 'keep-alive', 'cookie'), {
    maxLength: 4,
  })
  .map((names) => names.join(', '));

const headerValue = fc.oneof(
  fc.constantFrom(
    'qapi_browserSuppliedKey0000',
    '6.6.6.6',
    'evil.example',
    'https',
    'DELETE',
    '/admin',
    'gather_session=s:forged.sig',
    'Bearer browser-token',
    '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    'vendor=x',
    'v',
    '',
  ),
  fc.string({ unit: fc.constantFrom(...'abcXYZ019 ,;=-_.:/"'), maxLength: 20 }),
);

/** One header line as a browser (or an attacker) might send it, name in any case. */
export const headerPair: fc.Arbitrary<[string, string]> = headerName.chain((name) =>
  fc.tuple(caseVariant(name), name === 'connection' ? connectionList : headerValue),
);

/** Several header lines, names repeated at will. */
export const headerLines = fc.array(headerPair, { maxLength: 12 });

/**
 * The same lines as Node hands them to a handler (`req.headers`): names lower-cased, repeated
 * `cookie` joined with `; `, other repeats with `, `, and the repeats Node discards dropped.
 */
export function asNodeHeaders(lines: readonly [string, string][]): Record<string, string> {
  const DISCARD_DUPLICATES = new Set(['authorization', 'proxy-authorization', 'user-agent']);
  const out: Record<string, string> = {};
  for (const [rawName, value] of lines) {
    const name = rawName.toLowerCase();
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (DISCARD_DUPLICATES.has(name)) continue;
    else out[name] = `${prev}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return out;
}

/** Every name the browser's `Connection` headers list. */
export function connectionListed(lines: readonly [string, string][]): Set<string> {
  return new Set(
    lines
      .filter(([name]) => name.toLowerCase() === 'connection')
      .flatMap(([, value]) => value.split(','))
      .map((token) => token.trim().toLowerCase())
      .filter(Boolean),
  );
}
