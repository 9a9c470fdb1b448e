import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { methodLabel, routeLabel } from './route-label';

/** Gather's answers that say something about the key itself (refused, forbidden, throttled). */
const REJECTIONS = new Set([401, 403, 429]);

/** A key fingerprint (first 8 hex of its SHA-256, docs/contract.md "Keys"); anything else is refused as a label. */
const FINGERPRINT = /^[0-9a-f]{8}$/;

/** A variable name (GATHER_API_KEY_FILE) or a team source name (gather.teamKeys.team-a). */
const SOURCE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export type UpstreamFailureKind = 'timeout' | 'unreachable';

/**
 * The label values of the session metrics: what session/session-kinds.ts's SignInMethod and
 * SessionEndReason may be. This floor does not import session/; a value missing here fails the
 * build where session/ passes it in.
 */
const SIGN_IN_METHODS = ['local', 'oidc'] as const;
type SignInLabel = (typeof SIGN_IN_METHODS)[number];
const END_REASONS = [
  'logout',
  'everywhere',
  'revoked',
  'admin',
  'back-channel',
  'provider',
  'superseded',
  'idle',
  'absolute',
] as const;
type EndReasonLabel = (typeof END_REASONS)[number];

/**
 * The service's Prometheus metrics, on a registry of its own so that several applications in
 * one process (the tests) never collide. Every label value is bounded and none can hold a key,
 * a cookie, a user id or a path: values that do not have the expected shape are replaced.
 */
@Injectable()
export class Metrics {
  private readonly registry = new Registry();

  private readonly upstreamRequests = new Counter({
    name: 'gather_upstream_requests_total',
    help: 'Requests sent to Gather that got an HTTP answer, by key fingerprint',
    labelNames: ['key'] as const,
    registers: [this.registry],
  });

  private readonly upstreamThrottled = new Counter({
    name: 'gather_upstream_throttled_total',
    help: 'Calls refused with UPSTREAM_THROTTLED while their key was paused, by key fingerprint',
    labelNames: ['key'] as const,
    registers: [this.registry],
  });

  private readonly upstreamRejections = new Counter({
    name: 'gather_upstream_rejections_total',
    help: "Gather's 401, 403 and 429 answers, by key fingerprint and status",
    labelNames: ['key', 'status'] as const,
    registers: [this.registry],
  });

  private readonly upstreamFailures = new Counter({
    name: 'gather_upstream_failures_total',
    help: 'Requests to Gather that got no HTTP answer: timed out or unreachable',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  private readonly upstreamRetries = new Counter({
    name: 'gather_upstream_retries_total',
    help: 'GET and HEAD requests sent to Gather again, on a new connection, after the first got no answer',
    registers: [this.registry],
  });

  private readonly keyReloadFailures = new Counter({
    name: 'gather_key_reload_failures_total',
    help: 'Failed re-reads of a key source, by the setting that names the source',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  private readonly sessionsStarted = new Counter({
    name: 'bff_sessions_started_total',
    help: 'Sessions started, by sign-in method',
    labelNames: ['method'] as const,
    registers: [this.registry],
  });

  private readonly sessionsEnded = new Counter({
    name: 'bff_sessions_ended_total',
    help: 'Sessions ended, by reason (idle: as far as the BFF noticed)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private readonly loginFailures = new Counter({
    name: 'bff_login_failures_total',
    help: 'Sign-ins refused, by sign-in method',
    labelNames: ['method'] as const,
    registers: [this.registry],
  });

  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Public listener requests, by route family, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    // Up to Gather's default 30 s deadline and past it, where proxied requests end.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Both kinds exist from the start, so a rate() over them is defined before the first failure.
    this.upstreamFailures.inc({ kind: 'timeout' }, 0);
    this.upstreamFailures.inc({ kind: 'unreachable' }, 0);
    for (const reason of END_REASONS) this.sessionsEnded.inc({ reason }, 0);
    for (const method of SIGN_IN_METHODS) {
      this.sessionsStarted.inc({ method }, 0);
      this.loginFailures.inc({ method }, 0);
    }
  }

  sessionStarted(method: SignInLabel): void {
    this.sessionsStarted.inc({ method });
  }

  sessionEnded(reason: EndReasonLabel): void {
    this.sessionsEnded.inc({ reason });
  }

  loginFailed(method: SignInLabel): void {
    this.loginFailures.inc({ method });
  }

  /** Gather answered a request sent with the key of this fingerprint. */
  upstreamResponse(keyFingerprint: string, status: number): void {
    const key = FINGERPRINT.test(keyFingerprint) ? keyFingerprint : 'unknown';
    this.upstreamRequests.inc({ key });
    if (REJECTIONS.has(status)) this.upstreamRejections.inc({ key, status: String(status) });
  }

  /** A call was refused, not forwarded, because the key of this fingerprint is paused. */
  throttledCall(keyFingerprint: string): void {
    this.upstreamThrottled.inc({
      key: FINGERPRINT.test(keyFingerprint) ? keyFingerprint : 'unknown',
    });
  }

  upstreamFailure(kind: UpstreamFailureKind): void {
    this.upstreamFailures.inc({ kind });
  }

  upstreamRetried(): void {
    this.upstreamRetries.inc();
  }

  /** `source` names the setting (e.g. GATHER_API_KEY_FILE), never a path, reference or value. */
  keyReloadFailed(source: string): void {
    this.keyReloadFailures.inc({ source: SOURCE_NAME.test(source) ? source : 'other' });
  }

  /** Starts timing a public request; call the result with the final status. */
  httpRequest(url: string, method: string | undefined): (status: number) => void {
    const end = this.httpDuration.startTimer({
      route: routeLabel(url),
      method: methodLabel(method),
    });
    return (status) => {
      end({ status: String(status) });
    };
  }

  /** One request of the proxied path, which times itself (it runs ahead of the middleware). */
  proxiedRequest(method: string | undefined, status: number, seconds: number): void {
    const label = methodLabel(method);
    const key = `${label} ${status}`;
    let series = this.proxiedSeries.get(key);
    if (series === undefined) {
      series = this.httpDuration.labels({ route: 'api', method: label, status: String(status) });
      this.proxiedSeries.set(key, series);
    }
    series.observe(seconds);
  }

  /** The proxied path's histogram series, bound once per method and status (a bounded set). */
  private readonly proxiedSeries = new Map<
    string,
    Histogram.Internal<'route' | 'method' | 'status'>
  >();

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
