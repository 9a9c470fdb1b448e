import type { IncomingHttpHeaders } from 'node:http';
import type { Parameters } from 'structured-headers';
import { parsedList } from './rate-limit-fields';

/** How long Gather asked the BFF to wait, and the status the asking answer had. */
export interface UpstreamWait {
  /** Whole seconds, at least 1, at most the cap. */
  readonly seconds: number;
  /** The status refused calls get meanwhile: Gather's for a Retry-After, 429 for a RateLimit item. */
  readonly status: number;
}

const DELAY_SECONDS = /^[0-9]+$/;
/** RFC 9110 §5.6.7 IMF-fixdate, the form a sender must use. */
const IMF_FIXDATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$/;

/**
 * Whole seconds a `Retry-After` value asks for: delay-seconds (≥ 1) or an HTTP date in the future
 * (rounded up); undefined for anything else — 0, a past date, a fraction, a sign, a list, garbage.
 */
export function retryAfterSeconds(value: string, now: number): number | undefined {
  const trimmed = value.trim();
  if (DELAY_SECONDS.test(trimmed)) {
    const seconds = Number(trimmed);
    return seconds >= 1 ? seconds : undefined;
  }
  if (!IMF_FIXDATE.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  const seconds = Math.ceil((at - now) / 1000);
  return seconds >= 1 ? seconds : undefined;
}

/** A parameter that is a number, else undefined. */
function numberParam(params: Parameters, name: string): number | undefined {
  const value = params.get(name) as unknown;
  return typeof value === 'number' ? value : undefined;
}

/** The longest `t` of a `RateLimit` item that says nothing is left (`r=0`, `t` a whole ≥ 1). */
export function exhaustedFor(value: string | string[] | undefined): number | undefined {
  let longest: number | undefined;
  for (const [, params] of parsedList(value) ?? []) {
    const r = numberParam(params, 'r');
    const t = numberParam(params, 't');
    if (r !== 0 || t === undefined || !Number.isInteger(t) || t < 1) continue;
    if (longest === undefined || t > longest) longest = t;
  }
  return longest;
}

/** How many times `name` (lower case) is among an answer's raw header lines. */
function occurrences(rawHeaders: readonly string[], name: string): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === name) count += 1;
  }
  return count;
}

/**
 * The wait an answer of Gather's asks for (docs/capacity.md, "Pauses"): a `429`, or a `503`
 * with `Retry-After`, whose one `Retry-After` is usable; else a `RateLimit` item with `r=0` and
 * `t` ≥ 1, on any answer. Capped at `maxSeconds`. Node keeps only the first of repeated
 * `Retry-After` lines, so the raw lines are counted: a repeated one is no usable wait.
 */
export function upstreamWait(
  status: number,
  headers: IncomingHttpHeaders,
  rawHeaders: readonly string[],
  now: number,
  maxSeconds: number,
): UpstreamWait | undefined {
  const retryAfter = headers['retry-after'];
  if (
    (status === 429 || status === 503) &&
    retryAfter !== undefined &&
    occurrences(rawHeaders, 'retry-after') === 1
  ) {
    const seconds = retryAfterSeconds(retryAfter, now);
    if (seconds !== undefined) return { seconds: Math.min(seconds, maxSeconds), status };
  }
  if (headers.ratelimit === undefined) return undefined;
  const seconds = exhaustedFor(headers.ratelimit);
  return seconds === undefined
    ? undefined
    : { seconds: Math.min(seconds, maxSeconds), status: 429 };
}
