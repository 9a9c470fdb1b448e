import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { AppConfig } from '../config/config.schema';
import { ConfigError, loadConfig, type Env } from '../config/load-config';
import { LocalTracing, type Tracing } from './tracing';
import { createTracing } from './tracing.module';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

const request = (headers: IncomingHttpHeaders = {}): IncomingMessage =>
  ({ method: 'GET', url: '/api/gather/questions', headers }) as IncomingMessage;

const tracingConfig = (over: Partial<AppConfig['tracing']> = {}): AppConfig['tracing'] => ({
  sampler: 'parentbased_always_on',
  samplerArg: 1,
  ...over,
});

/** What Gather would receive for a request with `headers`, split into its fields. */
function toGather(tracing: Tracing, headers: IncomingHttpHeaders = {}) {
  const trace = tracing.begin(request(headers));
  const [, traceId, parentId, flags] = TRACEPARENT.exec(
    tracing.gatherCall(trace, 'GET', '/questions'),
  ) as unknown as [string, string, string, string];
  return { trace, traceId, parentId, flags };
}

describe('Tracing without an exporter', () => {
  let tracing: Tracing;
  beforeAll(async () => {
    tracing = await createTracing(tracingConfig(), 'http://gather.test/qsi/gather');
  });

  it('needs no SDK', () => {
    expect(tracing).toBeInstanceOf(LocalTracing);
  });

  it('continues a valid traceparent: same trace id, a new parent id, its sampled flag', () => {
    const sampled = toGather(tracing, { traceparent: `00-${TRACE}-${SPAN}-01` });
    expect(sampled.trace.traceId).toBe(TRACE);
    expect(sampled.traceId).toBe(TRACE);
    expect(sampled.parentId).not.toBe(SPAN);
    expect(sampled.flags).toBe('01');
    expect(toGather(tracing, { traceparent: `00-${TRACE}-${SPAN}-00` }).flags).toBe('00');
  });

  it('starts a new, sampled trace without a valid traceparent', () => {
    const absent = toGather(tracing);
    const invalid = toGather(tracing, { traceparent: `ff-${TRACE}-${SPAN}-01` });
    expect(absent.traceId).toBe(absent.trace.traceId);
    expect(absent.flags).toBe('01');
    expect(invalid.traceId).not.toBe(TRACE);
    expect(invalid.traceId).not.toBe(absent.traceId);
  });

  it('keeps the tracestate only with a continued traceparent', () => {
    const state = { tracestate: 'vendor=opaque' };
    expect(toGather(tracing, { traceparent: `00-${TRACE}-${SPAN}-01`, ...state }).trace).toEqual(
      expect.objectContaining({ tracestate: 'vendor=opaque' }),
    );
    expect(toGather(tracing, { traceparent: 'garbage', ...state }).trace.tracestate).toBe(
      undefined,
    );
    expect(toGather(tracing, state).trace.tracestate).toBeUndefined();
  });

  it('gives a Nest-routed request one trace id for all its lines', () => {
    const req = request();
    expect(tracing.traceIdOf(req)).toBe(tracing.traceIdOf(req));
    expect(tracing.traceIdOf(req)).not.toBe(tracing.traceIdOf(request()));
    expect(tracing.traceIdOf(request({ traceparent: `00-${TRACE}-${SPAN}-01` }))).toBe(TRACE);
  });
});

describe('sampling by OTEL_TRACES_SAMPLER without an exporter', () => {
  it('samples no new trace at ratio 0 and every one at ratio 1, by the SDK sampler', async () => {
    const none = await createTracing(
      tracingConfig({ sampler: 'parentbased_traceidratio', samplerArg: 0 }),
      'http://gather.test',
    );
    const all = await createTracing(
      tracingConfig({ sampler: 'traceidratio', samplerArg: 1 }),
      'http://gather.test',
    );
    expect(toGather(none).flags).toBe('00');
    expect(toGather(none, { traceparent: `00-${TRACE}-${SPAN}-01` }).flags).toBe('01');
    expect(toGather(all).flags).toBe('01');
  });

  it('always_off sends an unsampled traceparent even under a sampled parent', async () => {
    const off = await createTracing(tracingConfig({ sampler: 'always_off' }), 'http://gather.test');
    expect(toGather(off, { traceparent: `00-${TRACE}-${SPAN}-01` })).toMatchObject({
      traceId: TRACE,
      flags: '00',
    });
  });
});

describe('tracing configuration', () => {
  const base: Env = {
    GATHER_API_KEY: 'qapi_unitTestKey0123456789',
    SESSION_SECRET: 'Zq3v9N1xK8pW2mR7tY4bL6cH0dF5gJ3s',
  };
  const load = (env: Env): AppConfig =>
    loadConfig({ ...base, ...env }, join(__dirname, '..', '..', 'config'));
  const problems = (env: Env): readonly string[] => {
    try {
      load(env);
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };

  it('exports nothing and samples parent-based by default', () => {
    expect(load({}).tracing).toEqual({ sampler: 'parentbased_always_on', samplerArg: 1 });
  });

  it('reads the OTEL_* variables', () => {
    expect(
      load({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/spans',
        OTEL_SERVICE_NAME: 'bff-eu',
        OTEL_TRACES_SAMPLER: 'ParentBased_TraceIdRatio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }).tracing,
    ).toEqual({
      otlpEndpoint: 'http://collector:4318',
      otlpTracesEndpoint: 'http://traces:4318/spans',
      serviceName: 'bff-eu',
      sampler: 'parentbased_traceidratio',
      samplerArg: 0.25,
    });
  });

  it('refuses an unknown sampler, a ratio outside 0-1 and an endpoint that is not a URL', () => {
    const found = problems({
      OTEL_TRACES_SAMPLER: 'jaeger_remote',
      OTEL_TRACES_SAMPLER_ARG: '2',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '/v1/traces',
    });
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT (tracing.otlpEndpoint)',
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (tracing.otlpTracesEndpoint)',
      'OTEL_TRACES_SAMPLER (tracing.sampler)',
      'OTEL_TRACES_SAMPLER_ARG (tracing.samplerArg)',
    ]);
  });
});
