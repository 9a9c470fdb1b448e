import { TraceFlags, type SpanContext } from '@opentelemetry/api';
import { parseTraceParent, TraceState } from '@opentelemetry/core';
import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { AppConfig } from '../config/config.schema';

/**
 * W3C trace context as the BFF reads and writes it (docs/contract.md, "Tracing"): the
 * browser's `traceparent` parsed by OpenTelemetry's own W3C parser, new ids, and the sampling
 * decision. Nothing here loads the OpenTelemetry SDK.
 */

/**
 * The browser's trace context, when its `traceparent` is valid: version `ff`, ids of all
 * zeros, wrong lengths, upper-case hex and a version-00 value with more fields are not. Its
 * `tracestate` comes along only then, cleaned of invalid members.
 */
export function incomingParent(headers: IncomingHttpHeaders): SpanContext | undefined {
  const raw = headers.traceparent;
  // Node joins repeated unknown headers into one string, which then does not parse: two
  // traceparents are none.
  if (typeof raw !== 'string') return undefined;
  const parent = parseTraceParent(raw);
  if (!parent) return undefined;
  parent.isRemote = true;
  const state = headers.tracestate;
  if (typeof state === 'string') {
    const cleaned = new TraceState(state);
    if (cleaned.serialize() !== '') parent.traceState = cleaned;
  }
  return parent;
}

export const isSampled = (context: SpanContext): boolean =>
  (context.traceFlags & TraceFlags.SAMPLED) !== 0;

/** A `traceparent` header value (version 00), carrying only the sampled flag. */
export function traceparentOf(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/** Ids per refill of the pool: a trace id and a span id each. */
const IDS_PER_FILL = 256;
const ZEROS: Readonly<Record<number, string>> = { 16: '0'.repeat(16), 32: '0'.repeat(32) };

/**
 * Random trace and span ids as lower-case hex, cut from one pre-filled pool: one
 * `randomFillSync` per 256 requests instead of a call into the crypto library per id, which
 * costs several times more on the hot path.
 */
export class IdPool {
  private readonly bytes = Buffer.allocUnsafe(IDS_PER_FILL * 24);
  private hex = '';
  private at = 0;

  /** 32 hex digits, never all zeros. */
  traceId(): string {
    return this.take(32);
  }

  /** 16 hex digits, never all zeros. */
  spanId(): string {
    return this.take(16);
  }

  private take(digits: number): string {
    if (this.at + digits > this.hex.length) {
      this.hex = randomFillSync(this.bytes).toString('hex');
      this.at = 0;
    }
    const id = this.hex.slice(this.at, (this.at += digits));
    // All zeros means "no id" in W3C trace context; one chance in 2^64 at worst.
    return id === ZEROS[digits] ? this.take(digits) : id;
  }
}

/** An OTEL_TRACES_SAMPLER name the BFF supports. */
export type SamplerName = AppConfig['tracing']['sampler'];

/** Whether a trace is sampled: from its parent (undefined for a new trace) and its id. */
export type SamplingRule = (parent: SpanContext | undefined, traceId: string) => boolean;

/**
 * The OpenTelemetry sampler `name` as one function, for both the spans the SDK records and the
 * flag sent to Gather when nothing is exported. `ratio` decides a root by its trace id (the
 * SDK's TraceIdRatioBased sampler, so every service sampling by ratio agrees).
 */
export function samplingRule(name: SamplerName, ratio: (traceId: string) => boolean): SamplingRule {
  const root = name.endsWith('always_on')
    ? () => true
    : name.endsWith('always_off')
      ? () => false
      : ratio;
  if (!name.startsWith('parentbased_')) return (_parent, traceId) => root(traceId);
  return (parent, traceId) => (parent ? isSampled(parent) : root(traceId));
}
