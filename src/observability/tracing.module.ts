import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import { createTracing, Tracing } from './tracing';

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
