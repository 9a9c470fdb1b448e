import type { OnApplicationShutdown } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { IdPool, incomingParent, traceparentOf, type SamplingRule } from './tracing-context';

/** One request's trace, from its arrival to its last byte. */
export interface RequestTrace {
  /** The trace id: the browser's when its traceparent was continued. Logged as `traceId`. */
  readonly traceId: string;
  /** The browser's `tracestate` (cleaned), only alongside a continued traceparent. */
  readonly tracestate: string | undefined;
}

/**
 * A Nest-routed request's trace id, on the request itself: a WeakMap entry per request would be
 * kept alive by V8's young-generation collector (docs/architecture.md, "No per-request state in
 * long-lived maps").
 */
const TRACE_ID = Symbol('traceId');
type Traced = IncomingMessage & { [TRACE_ID]?: string };

/**
 * W3C trace context for every request (docs/contract.md, "Tracing"): continues a valid
 * browser `traceparent` or starts a new trace, and says what Gather receives. An abstract class
 * as the DI token: without an OTLP endpoint, `LocalTracing` only makes ids; with one,
 * `ExportingTracing` (tracing-export.ts, loaded only then) records spans with the SDK.
 */
export abstract class Tracing implements OnApplicationShutdown {
  protected constructor(protected readonly ids: IdPool) {}

  /** Starts the trace of a request on the proxied path. */
  abstract begin(req: IncomingMessage): RequestTrace;

  /** The `traceparent` for the call to Gather about to be made for `trace`. */
  abstract gatherCall(trace: RequestTrace, method: string, path: string): string;

  /** Gather answered `status` (a no-op unless spans are recorded). */
  gatherAnswered(_trace: RequestTrace, _status: number): void {}

  /** No answer from Gather: `kind` says why (a no-op unless spans are recorded). */
  gatherFailed(_trace: RequestTrace, _kind: string): void {}

  /** The browser got `status`; `finished` is false when the answer was cut short. */
  end(_trace: RequestTrace, _status: number, _finished: boolean): void {}

  /**
   * The trace id of a request Nest routes, for its log lines: the browser's when valid, else a
   * new one. The same for every line of the request.
   */
  traceIdOf(req: IncomingMessage): string {
    const traced = req as Traced;
    return (traced[TRACE_ID] ??= incomingParent(req.headers)?.traceId ?? this.ids.traceId());
  }

  /** Sends the spans still buffered and stops exporting (a no-op unless spans are recorded). */
  async onApplicationShutdown(): Promise<void> {}
}

/** No exporter: ids and the sampling flag only, nothing recorded. */
export class LocalTracing extends Tracing {
  constructor(
    ids: IdPool,
    private readonly sampled: SamplingRule,
  ) {
    super(ids);
  }

  begin(req: IncomingMessage): LocalTrace {
    const parent = incomingParent(req.headers);
    const traceId = parent?.traceId ?? this.ids.traceId();
    // One new span id: the BFF's call to Gather, the parent Gather sees.
    return {
      traceId,
      tracestate: parent?.traceState?.serialize(),
      traceparent: traceparentOf(traceId, this.ids.spanId(), this.sampled(parent, traceId)),
    };
  }

  gatherCall(trace: RequestTrace): string {
    return (trace as LocalTrace).traceparent;
  }
}

interface LocalTrace extends RequestTrace {
  readonly traceparent: string;
}
