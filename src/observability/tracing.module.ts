import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { AppConfig } from '../config/config.schema';
import { LocalTracing, Tracing } from './tracing';
import { IdPool, samplingRule } from './tracing-context';

/**
 * The Tracing the configuration asks for. The SDK is imported only when something is exported
 * or a ratio sampler needs its TraceIdRatioBased sampler.
 */
export async function createTracing(
  config: AppConfig['tracing'],
  gatherBaseUrl: string,
): Promise<Tracing> {
  const { otlpEndpoint, otlpTracesEndpoint, sampler, samplerArg } = config;
  let ratio = (_traceId: string): boolean => false;
  if (sampler.endsWith('traceidratio')) {
    const { SamplingDecision, TraceIdRatioBasedSampler } = await import('@opentelemetry/sdk-trace');
    const byRatio = new TraceIdRatioBasedSampler(samplerArg);
    ratio = (traceId) =>
      byRatio.shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
  }
  const rule = samplingRule(sampler, ratio);
  const tracesUrl =
    otlpTracesEndpoint ??
    (otlpEndpoint === undefined ? undefined : `${otlpEndpoint.replace(/\/$/, '')}/v1/traces`);
  if (tracesUrl === undefined) return new LocalTracing(new IdPool(), rule);
  const { ExportingTracing } = await import('./tracing-export.js');
  return new ExportingTracing({ ...config, tracesUrl }, gatherBaseUrl, new IdPool(), rule);
}

/**
 * Owns W3C trace context and, with OTEL_EXPORTER_OTLP_ENDPOINT, span export (docs/contract.md,
 * "Tracing"). Global, so the proxy pipeline and the request log read the same `Tracing`; the
 * logging module imports it, since every request's log line carries its trace id.
 */
@Global()
@Module({
  providers: [
    {
      provide: Tracing,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) =>
        createTracing(
          config.get('tracing', { infer: true }),
          config.get('gather.baseUrl', { infer: true }),
        ),
    },
  ],
  exports: [Tracing],
})
export class TracingModule {}
