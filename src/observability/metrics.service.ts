import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { methodLabel, routeLabel } from './route-label';

/** Gather's answers that say something about the key itself (refused, forbidden, throttled). */
const REJECTIONS = [401, 403, 429] as const;
const IS_REJECTION = new Set<number>(REJECTIONS);

/** A key fingerprint (first 8 hex of its SHA-256, docs/contract.md "Keys"); anything else is refused as a label. */
const FINGERPRINT = /^[0-9a-f]{8}$/;

/** A variable name (GATHER_API_KEY_FILE) or a team source name (gather.teamKeys.team-a). */
const SOURCE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export type UpstreamFailureKind = 'timeout' | 'unreachable';

/** A status as a label: an HTTP status code (100–599) as it is, anything else `other`. */
const statusLabel = (status: number): string =>
  Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : 'other';

/**
 * The quota names of quota/quota-plan.ts's QuotaName, the label values of the quota refusals.
 * This floor does not import quota/; a name missing here fails the build where quota/ passes it.
 */
const QUOTA_NAMES = ['user-day', 'user-month', 'team-day', 'team-month'] as const;
type QuotaLabel = (typeof QUOTA_NAMES)[number];

/** What the readiness gauges show: whether the replica is ready, and each check's result. */
export interface ReadinessState {
  readonly ready: boolean;
  readonly checks: readonly (readonly [name: string, passing: boolean])[];
}

/** Each held key's fingerprint and the seconds left of its pause, 0 when it is not paused. */
export type PauseReader = () => Iterable<readonly [fingerprint: string, seconds: number]>;

/** Teams and the share of their monthly quota used (1 = used up). */
export type TeamQuotaReader = () => Promise<Iterable<readonly [team: string, ratio: number]>>;

/** Gather's answers of one key and status: their counters, bound once. */
interface AnswerSeries {
  readonly requests: Counter.Internal;
  readonly rejections: Counter.Internal | undefined;
}

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
 * docs/operations.md#metrics lists them all, with the bound of each label.
 *
 * The gauges of state (readiness, Redis, pauses, team quotas) are read when Prometheus scrapes,
 * from readers the modules owning that state register: nothing runs for them per request.
 */
@Injectable()
export class Metrics {
  private readonly registry = new Registry();

  private readonly upstreamRequests = new Counter({
    name: 'gather_upstream_requests_total',
    help: 'Requests sent to Gather that got an HTTP answer, by key fingerprint and status',
    labelNames: ['key', 'status'] as const,
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

  private readonly keyPause = new Gauge({
    name: 'gather_key_pause_remaining_seconds',
    help: 'Seconds left of the pause Gather asked for, by key fingerprint; 0 when the key is not paused',
    labelNames: ['key'] as const,
    registers: [this.registry],
    collect: () => this.collectPauses(),
  });

  private readonly keyReloads = new Counter({
    name: 'gather_key_reloads_total',
    help: 'Successful re-reads of a key source, changed or not, by the setting that names the source',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  private readonly keyRotations = new Counter({
    name: 'gather_key_rotations_total',
    help: 'Re-reads of a key source that found a new key, by the setting that names the source',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  private readonly keyReloadFailures = new Counter({
    name: 'gather_key_reload_failures_total',
    help: 'Failed re-reads of a key source, by the setting that names the source',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  private readonly quotaRefusals = new Counter({
    name: 'bff_quota_refusals_total',
    help: 'Calls refused with QUOTA_EXCEEDED, by the quota used up',
    labelNames: ['quota'] as const,
    registers: [this.registry],
  });

  private readonly teamQuota = new Gauge({
    name: 'bff_team_month_quota_used_ratio',
    help: "Share of a team's monthly quota used (1: used up), for a bounded set of teams",
    labelNames: ['team'] as const,
    registers: [this.registry],
    collect: () => this.collectTeamQuotas(),
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

  private readonly ready = new Gauge({
    name: 'bff_ready',
    help: 'Whether this replica is ready (1) or not (0), as /readyz answers',
    // Registered with its reader: a gauge without labels would otherwise show 0, "not ready".
    registers: [],
    collect: () => this.collectReadiness(),
  });

  private readonly readinessChecks = new Gauge({
    name: 'bff_readiness_check_passing',
    help: 'Whether each readiness check passes (1) or fails (0)',
    labelNames: ['check'] as const,
    registers: [this.registry],
    collect: () => this.collectReadiness(),
  });

  private readonly redisUp = new Gauge({
    name: 'bff_redis_up',
    help: 'Whether Redis answered a PING within its deadline (1) or not (0)',
    // Registered with its reader, so it has no series without Redis (rather than a 0 that alerts).
    registers: [],
    collect: () => this.collectRedis(),
  });

  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Public listener requests, by route family, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    // Up to Gather's default 30 s deadline and past it, where proxied requests end.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  /** The quota refusals' series, bound once: a refusal costs one increment. */
  private readonly quotaRefusalSeries = Object.fromEntries(
    QUOTA_NAMES.map((quota) => [quota, this.quotaRefusals.labels({ quota })]),
  ) as Record<QuotaLabel, Counter.Internal>;

  /** Gather's answers' series by key fingerprint, then status: bound on first use. */
  private readonly answerSeries = new Map<string, Map<number, AnswerSeries>>();

  /** The proxied path's histogram series, bound once per method and status (a bounded set). */
  private readonly proxiedSeries = new Map<
    string,
    Histogram.Internal<'route' | 'method' | 'status'>
  >();

  private pauseReader: PauseReader | undefined;
  private teamQuotaReader: TeamQuotaReader | undefined;
  private readinessReader: (() => Promise<ReadinessState>) | undefined;
  private redisReader: (() => Promise<boolean>) | undefined;
  /** The readiness read of the scrape in progress, which both readiness gauges wait for. */
  private readinessRead: Promise<void> | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Known label values exist from the start, so a rate() over them is defined before the first event.
    this.upstreamFailures.inc({ kind: 'timeout' }, 0);
    this.upstreamFailures.inc({ kind: 'unreachable' }, 0);
    for (const reason of END_REASONS) this.sessionsEnded.inc({ reason }, 0);
    for (const quota of QUOTA_NAMES) this.quotaRefusalSeries[quota].inc(0);
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

  /**
   * A key was loaded or replaced: the per-key counters an alert or a rate() reads start at 0,
   * and so do the reload counters of its source.
   */
  keyLoaded(keyFingerprint: string, source: string): void {
    if (FINGERPRINT.test(keyFingerprint)) {
      const key = keyFingerprint;
      this.upstreamThrottled.inc({ key }, 0);
      for (const status of REJECTIONS) {
        this.upstreamRejections.inc({ key, status: String(status) }, 0);
      }
    }
    const labels = { source: sourceLabel(source) };
    this.keyReloads.inc(labels, 0);
    this.keyRotations.inc(labels, 0);
    this.keyReloadFailures.inc(labels, 0);
  }

  /** Gather answered a request sent with the key of this fingerprint. */
  upstreamResponse(keyFingerprint: string, status: number): void {
    const series =
      this.answerSeries.get(keyFingerprint)?.get(status) ?? this.bind(keyFingerprint, status);
    series.requests.inc();
    series.rejections?.inc();
  }

  private bind(keyFingerprint: string, status: number): AnswerSeries {
    const valid = FINGERPRINT.test(keyFingerprint);
    const key = valid ? keyFingerprint : 'unknown';
    const series: AnswerSeries = {
      requests: this.upstreamRequests.labels({ key, status: statusLabel(status) }),
      rejections: IS_REJECTION.has(status)
        ? this.upstreamRejections.labels({ key, status: String(status) })
        : undefined,
    };
    // Only fingerprints are kept as map keys: the map stays bounded by the keys held.
    if (valid) {
      let byStatus = this.answerSeries.get(keyFingerprint);
      if (byStatus === undefined)
        this.answerSeries.set(keyFingerprint, (byStatus = new Map<number, AnswerSeries>()));
      byStatus.set(status, series);
    }
    return series;
  }

  /** A call was refused, not forwarded, because the key of this fingerprint is paused. */
  throttledCall(keyFingerprint: string): void {
    this.upstreamThrottled.inc({
      key: FINGERPRINT.test(keyFingerprint) ? keyFingerprint : 'unknown',
    });
  }

  /** A call was refused with QUOTA_EXCEEDED because `quota` is used up. */
  quotaRefused(quota: QuotaLabel): void {
    this.quotaRefusalSeries[quota].inc();
  }

  upstreamFailure(kind: UpstreamFailureKind): void {
    this.upstreamFailures.inc({ kind });
  }

  upstreamRetried(): void {
    this.upstreamRetries.inc();
  }

  /** `source` names the setting (e.g. GATHER_API_KEY_FILE), never a path, reference or value. */
  keyReloadFailed(source: string): void {
    this.keyReloadFailures.inc({ source: sourceLabel(source) });
  }

  /** A re-read of `source` succeeded; `rotated`: it found a new key. */
  keyReloaded(source: string, rotated: boolean): void {
    const labels = { source: sourceLabel(source) };
    this.keyReloads.inc(labels);
    if (rotated) this.keyRotations.inc(labels);
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

  /** Where the key pause gauge reads from at each scrape (capacity/key-pauses.ts). */
  readPausesFrom(reader: PauseReader): void {
    this.pauseReader = reader;
  }

  /** Where the team quota gauge reads from at each scrape (usage/team-quota-metrics.ts). */
  readTeamQuotasFrom(reader: TeamQuotaReader): void {
    this.teamQuotaReader = reader;
  }

  /** Where the readiness gauges read from at each scrape. */
  readReadinessFrom(reader: () => Promise<ReadinessState>): void {
    if (this.readinessReader === undefined) this.registry.registerMetric(this.ready);
    this.readinessReader = reader;
  }

  /** Where the Redis gauge reads from at each scrape; without one it has no series. */
  readRedisFrom(reader: () => Promise<boolean>): void {
    if (this.redisReader === undefined) this.registry.registerMetric(this.redisUp);
    this.redisReader = reader;
  }

  private collectPauses(): void {
    this.keyPause.reset();
    for (const [fingerprint, seconds] of this.pauseReader?.() ?? []) {
      if (FINGERPRINT.test(fingerprint)) this.keyPause.set({ key: fingerprint }, seconds);
    }
  }

  private async collectTeamQuotas(): Promise<void> {
    const reader = this.teamQuotaReader;
    let teams: Iterable<readonly [string, number]> = [];
    // A store that does not answer leaves the gauge empty; bff_redis_up says why.
    if (reader) teams = await reader().catch(() => []);
    this.teamQuota.reset();
    for (const [team, ratio] of teams) this.teamQuota.set({ team }, ratio);
  }

  /** Both readiness gauges are collected in one scrape: the checks run once for the two. */
  private collectReadiness(): Promise<void> {
    this.readinessRead ??= this.readReadiness().finally(() => {
      this.readinessRead = undefined;
    });
    return this.readinessRead;
  }

  private async readReadiness(): Promise<void> {
    const reader = this.readinessReader;
    if (!reader) return;
    const state = await reader();
    this.ready.set(state.ready ? 1 : 0);
    this.readinessChecks.reset();
    for (const [check, passing] of state.checks)
      this.readinessChecks.set({ check }, passing ? 1 : 0);
  }

  private async collectRedis(): Promise<void> {
    const reader = this.redisReader;
    if (!reader) return;
    this.redisUp.set((await reader().catch(() => false)) ? 1 : 0);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** A source label: a setting's name, never a path, reference or value. */
function sourceLabel(source: string): string {
  return SOURCE_NAME.test(source) ? source : 'other';
}
