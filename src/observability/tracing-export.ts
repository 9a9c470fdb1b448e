import {
  diag,
  DiagLogLevel,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { getNumberFromEnv } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  SamplingDecision,
  TracerProvider,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import { Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { AppConfig } from '../config/config.schema';
import { Tracing, type RequestTrace } from './tracing';
import {
  incomingParent,
  isSampled,
  traceparentOf,
  type IdPool,
  type SamplingRule,
} from './tracing-context';

const ROUTE = '/api/gather/*';

/** A request's spans: the BFF's server span, and its client span once Gather is called. */
interface ExportedTrace extends RequestTrace {
  readonly server: Span;
  client?: Span;
}

/**
 * OTLP/HTTP export with the OpenTelemetry SDK: a server span per proxied request and a client
 * span per call to Gather, to `tracesUrl` (JSON); the SDK's own OTEL_EXPORTER_OTLP_*
 * and OTEL_RESOURCE_ATTRIBUTES variables apply. Spans are made here, not by instrumenting
 * node:http, so nothing else pays for them. Attributes are method, path, route, Gather's
 * address and statuses: never a header, a query string, a key or a session.
 */
export class ExportingTracing extends Tracing {
  private readonly logger = new Logger('Tracing');
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;
  private readonly gather: URL;
  private readonly gatherPath: string;
  private readonly gatherPort: number;

  constructor(
    config: AppConfig['tracing'] & { tracesUrl: string },
    gatherBaseUrl: string,
    ids: IdPool,
    sampled: SamplingRule,
  ) {
    super(ids);
    const { tracesUrl, serviceName } = config;
    this.gather = new URL(gatherBaseUrl);
    this.gatherPath = this.gather.pathname.replace(/\/$/, '');
    this.gatherPort = Number(this.gather.port || (this.gather.protocol === 'https:' ? 443 : 80));
    // The SDK reports failed exports and dropped spans through its diagnostics channel, silent
    // by default.
    diag.setLogger(
      {
        error: (message) => this.logger.warn(message),
        warn: (message) => this.logger.warn(message),
        info: () => undefined,
        debug: () => undefined,
        verbose: () => undefined,
      },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
    // Later merges win: the default name, then OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME.
    let resource = defaultResource()
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'gather-bff' }))
      .merge(detectResources({ detectors: [envDetector] }));
    if (serviceName)
      resource = resource.merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }));
    const sampler: Sampler = {
      shouldSample: (context, traceId) => ({
        decision: sampled(trace.getSpanContext(context), traceId)
          ? SamplingDecision.RECORD_AND_SAMPLED
          : SamplingDecision.NOT_RECORD,
      }),
      toString: () => config.sampler,
    };
    const exporter = new OTLPTraceExporter({ url: tracesUrl });
    this.provider = new TracerProvider({
      resource,
      sampler,
      spanProcessors: [
        // The standard batch settings; this SDK version no longer reads them itself.
        new BatchSpanProcessor({
          exporter,
          maxQueueSize: getNumberFromEnv('OTEL_BSP_MAX_QUEUE_SIZE'),
          maxExportBatchSize: getNumberFromEnv('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
          scheduledDelayMillis: getNumberFromEnv('OTEL_BSP_SCHEDULE_DELAY'),
          exportTimeoutMillis: getNumberFromEnv('OTEL_BSP_EXPORT_TIMEOUT'),
        }),
      ],
    });
    this.tracer = this.provider.getTracer('gather-bff');
  }

  begin(req: IncomingMessage): ExportedTrace {
    const parent = incomingParent(req.headers);
    const context = parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
    const method = req.method ?? '';
    const server = this.tracer.startSpan(
      `${method} ${ROUTE}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: method,
          [ATTR_HTTP_ROUTE]: ROUTE,
          [ATTR_URL_PATH]: (req.url ?? '').split('?', 1)[0],
        },
      },
      context,
    );
    return {
      server,
      traceId: server.spanContext().traceId,
      tracestate: parent?.traceState?.serialize(),
    };
  }

  gatherCall(t: RequestTrace, method: string, path: string): string {
    const exported = t as ExportedTrace;
    const client = this.tracer.startSpan(
      method,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: method,
          [ATTR_SERVER_ADDRESS]: this.gather.hostname,
          [ATTR_SERVER_PORT]: this.gatherPort,
          [ATTR_URL_FULL]: `${this.gather.origin}${this.gatherPath}${path}`,
        },
      },
      trace.setSpan(ROOT_CONTEXT, exported.server),
    );
    exported.client = client;
    const { traceId, spanId } = client.spanContext();
    return traceparentOf(traceId, spanId, isSampled(client.spanContext()));
  }

  override gatherAnswered(t: RequestTrace, status: number): void {
    const client = (t as ExportedTrace).client;
    if (!client) return;
    client.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    if (status >= 500) {
      client.setAttribute(ATTR_ERROR_TYPE, String(status));
      client.setStatus({ code: SpanStatusCode.ERROR });
    }
  }

  override gatherFailed(t: RequestTrace, kind: string): void {
    const client = (t as ExportedTrace).client;
    if (!client) return;
    client.setAttribute(ATTR_ERROR_TYPE, kind);
    client.setStatus({ code: SpanStatusCode.ERROR });
  }

  override end(t: RequestTrace, status: number, finished: boolean): void {
    const { server, client } = t as ExportedTrace;
    client?.end();
    server.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    if (status >= 500 || !finished) {
      server.setAttribute(ATTR_ERROR_TYPE, finished ? String(status) : 'aborted');
      server.setStatus({ code: SpanStatusCode.ERROR });
    }
    server.end();
  }

  override async onApplicationShutdown(): Promise<void> {
    // Flushes what the batch processor still holds, then stops the exporter.
    await this.provider.shutdown();
    diag.disable();
  }
}
