import { TraceFlags, type SpanContext } from '@opentelemetry/api';
import { IdPool, incomingParent, samplingRule, traceparentOf } from './tracing-context';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const VALID = `00-${TRACE}-${SPAN}-01`;

describe('incomingParent', () => {
  it('continues a valid traceparent: its trace id, parent id and sampled flag', () => {
    expect(incomingParent({ traceparent: VALID })).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    expect(incomingParent({ traceparent: `00-${TRACE}-${SPAN}-00` })?.traceFlags).toBe(0);
  });

  it('accepts a later version with more fields, as W3C trace context asks', () => {
    expect(incomingParent({ traceparent: `01-${TRACE}-${SPAN}-01-future` })?.traceId).toBe(TRACE);
  });

  it.each([
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['an all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['a short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['a long parent id', `00-${TRACE}-${SPAN}0-01`],
    ['a one-digit version', `0-${TRACE}-${SPAN}-01`],
    ['one-digit flags', `00-${TRACE}-${SPAN}-1`],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['upper-case hex in the parent id', `00-${TRACE}-${SPAN.toUpperCase()}-01`],
    ['version 00 with a fifth field', `${VALID}-extra`],
    ['two traceparents joined by Node', `${VALID}, ${VALID}`],
    ['not hex', `00-${'g'.repeat(32)}-${SPAN}-01`],
    ['empty', ''],
  ])('refuses %s', (_what, traceparent) => {
    expect(incomingParent({ traceparent, tracestate: 'vendor=value' })).toBeUndefined();
  });

  it('takes the tracestate only with a valid traceparent, without invalid members', () => {
    const parent = incomingParent({ traceparent: VALID, tracestate: 'a=1, BAD KEY=2,b=x' });
    expect(parent?.traceState?.serialize()).toBe('a=1,b=x');
    expect(incomingParent({ traceparent: VALID, tracestate: 'no member' })?.traceState).toBe(
      undefined,
    );
    expect(incomingParent({ tracestate: 'a=1' })).toBeUndefined();
  });
});

describe('traceparentOf', () => {
  it('writes version 00 with the sampled flag only', () => {
    expect(traceparentOf(TRACE, SPAN, true)).toBe(VALID);
    expect(traceparentOf(TRACE, SPAN, false)).toBe(`00-${TRACE}-${SPAN}-00`);
  });
});

describe('IdPool', () => {
  it('hands out lower-case hex ids of the W3C lengths, each different, across refills', () => {
    const pool = new IdPool();
    const ids = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const traceId = pool.traceId();
      const spanId = pool.spanId();
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(spanId).toMatch(/^[0-9a-f]{16}$/);
      ids.add(traceId).add(spanId);
    }
    expect(ids.size).toBe(1200);
  });
});

describe('samplingRule', () => {
  const sampledParent: SpanContext = { traceId: TRACE, spanId: SPAN, traceFlags: 1 };
  const unsampledParent: SpanContext = { ...sampledParent, traceFlags: 0 };
  const byRatio = (traceId: string): boolean => traceId.startsWith('4');

  it.each([
    // name, new trace, sampled parent, unsampled parent
    ['parentbased_always_on', true, true, false],
    ['parentbased_always_off', false, true, false],
    ['parentbased_traceidratio', true, true, false],
    ['always_on', true, true, true],
    ['always_off', false, false, false],
    ['traceidratio', true, true, true],
  ] as const)('%s', (name, root, withSampled, withUnsampled) => {
    const rule = samplingRule(name, byRatio);
    expect(rule(undefined, TRACE)).toBe(root);
    expect(rule(sampledParent, TRACE)).toBe(withSampled);
    expect(rule(unsampledParent, TRACE)).toBe(withUnsampled);
  });

  it('decides a new trace by its id under a ratio sampler', () => {
    const rule = samplingRule('parentbased_traceidratio', byRatio);
    expect(rule(undefined, `5${TRACE.slice(1)}`)).toBe(false);
  });
});
