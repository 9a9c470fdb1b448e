/**
 * Every proxied answer is one user's (docs/contract.md, "Headers to the browser", "Private
 * answers"): Gather's `Cache-Control` keeps what it says about the user's own cache, loses what
 * would let a shared cache keep the answer, and gains `private`; `Vary` always names `Cookie`.
 */

/** One cache directive, RFC 9111 §5.2: a token, optionally `=` a token or a quoted string. */
const DIRECTIVE =
  /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:=(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+|"(?:[^"\\]|\\.)*"))?$/;

/** Directives for shared caches, and `private` itself (also its field-list form) to be put first. */
const SHARED_ONLY = new Set(['public', 's-maxage', 'private']);

const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The directives of a Cache-Control value as written, split on the commas outside quotes. */
function directivesOf(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) quoted = false;
    } else if (c === QUOTE) quoted = true;
    else if (c === COMMA) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out;
}

/**
 * Gather's Cache-Control for the browser: `private` first, then Gather's directives as written
 * except `public`, `s-maxage` and its own `private`; a directive that does not parse is dropped
 * rather than left for a lenient cache to misread. `no-store` when Gather gave no directive.
 */
export function privateCacheControl(value: string | undefined): string {
  if (value === undefined) return 'no-store';
  let out = '';
  let valid = false;
  for (const directive of directivesOf(value)) {
    const match = DIRECTIVE.exec(directive);
    if (!match) continue;
    valid = true;
    if (!SHARED_ONLY.has((match[1] as string).toLowerCase())) out += `, ${directive}`;
  }
  return valid ? `private${out}` : 'no-store';
}

/** Gather's Vary with `Cookie` added unless it already names it (any case). */
export function varyWithCookie(value: string | undefined): string {
  if (value === undefined) return 'Cookie';
  const members = value
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '');
  if (!members.some((m) => m.toLowerCase() === 'cookie')) members.push('Cookie');
  return members.join(', ');
}
