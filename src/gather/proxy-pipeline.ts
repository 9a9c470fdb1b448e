import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkRequestOrigin } from '../auth/request-origin';
import type { AppConfig } from '../config/config.schema';
import { BODY_IDLE_MS, BODY_MIN_BYTES_PER_SECOND, BODY_RATE_GRACE_MS } from '../http/body-idle';
import { requestLogLevel } from '../http/envelope';
import { BffError } from '../http/error-codes';
import { GatherKeys } from '../keys/gather-keys.service';
import { Metrics } from '../observability/metrics.service';
import { Tracing } from '../observability/tracing';
import { loggedUrl } from '../observability/logged-url';
import { addRateLimit, type RateLimitItems } from '../capacity/rate-limit-fields';
import { ProxyQuota } from '../quota/proxy-quota';
import { ProxyRateLimit } from '../rate-limit/proxy-rate-limit';
import { SessionLookup } from '../session/session-lookup';
import { UsageRecorder } from '../usage/usage-recorder';
import { compileRules } from './allow-list';
import { GatherForwarder } from './gather-forwarder';
import { BodyBudget, readBody, type BodyLimits } from './request-body';
import { assertForwardedMethod, upstreamTarget } from './path-policy';
import { uploaderOf, type ProxyCall } from './proxy-call';
import type { Principal } from '../session/principal';

/** One check of the proxied path: refuses by throwing a BffError, else fills in `call`. */
type Step = (call: ProxyCall) => void | Promise<void>;

/**
 * `ANY /api/gather/*`: the proxied path, as one list of named checks composed once at start-up
 * from the same providers the Nest routes use, run ahead of Express (its router, helmet,
 * express-session and the per-route guards cost several times what a call needs). The order is
 * the contract's (docs/contract.md, "Check order"); the first refusal answers. One log line and
 * one metrics observation per request (docs/architecture.md).
 */
@Injectable()
export class ProxyPipeline {
  private readonly steps: readonly Step[];
  private log: { root: Logger; child: Logger } | undefined;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(SessionLookup) sessions: SessionLookup,
    @Inject(GatherKeys) keys: GatherKeys,
    @Inject(ProxyRateLimit) rateLimit: ProxyRateLimit,
    @Inject(ProxyQuota) quota: ProxyQuota,
    @Inject(GatherForwarder) private readonly forwarder: GatherForwarder,
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(Tracing) private readonly tracing: Tracing,
    @Inject(UsageRecorder) private readonly usage: UsageRecorder,
  ) {
    const allowedOrigins = new Set(config.get('server.allowedOrigins', { infer: true }));
    const allowList = compileRules(config.get('proxy', { infer: true }).allow);
    const { maxBodyBytes, maxBufferedBytes, maxBufferedBytesPerUser } = config.get('proxy', {
      infer: true,
    });
    const body: BodyLimits = {
      maxBytes: maxBodyBytes,
      idleMs: BODY_IDLE_MS,
      minBytesPerSecond: BODY_MIN_BYTES_PER_SECOND,
      rateGraceMs: BODY_RATE_GRACE_MS,
      // By default an eighth of the whole, and room for at least one body of the largest size
      // (docs/configuration.md, "Proxy").
      budget: new BodyBudget(
        maxBufferedBytes,
        maxBufferedBytesPerUser ?? Math.max(maxBodyBytes, Math.floor(maxBufferedBytes / 8)),
      ),
    };

    const refuseUnforwardedMethod: Step = (call) => assertForwardedMethod(call.req.method ?? '');
    const refuseUnsafePath: Step = (call) => {
      call.target = upstreamTarget(call.url);
    };
    const refuseForeignOrigin: Step = (call) =>
      checkRequestOrigin(call.req.headers, allowedOrigins);
    const routeAllowed = (call: ProxyCall): boolean =>
      allowList.matches(
        call.req.method as string,
        (call.target as NonNullable<ProxyCall['target']>).path,
      );
    // With a store across the network, the count's round trip runs beside the session read's
    // rather than after it, for the user the session had when last read here; it stands only
    // once the session check names that user (docs/architecture.md, "Stores and replicas").
    const countAhead = (call: ProxyCall, principal: Principal): void => {
      if (!routeAllowed(call)) return;
      const report: RateLimitItems = {};
      const outcome = rateLimit
        .count(
          report,
          principal,
          call.req.method as string,
          (call.target as NonNullable<ProxyCall['target']>).path,
        )
        .then(
          () => undefined,
          (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
        );
      call.earlyCount = { principal, report, outcome };
    };
    const requireSession: Step = async (call) => {
      call.user = await sessions.userOf(call.req, call.res, call.requestId, (principal) =>
        countAhead(call, principal),
      );
    };
    const refuseUnlistedRoute: Step = (call) => {
      const method = call.req.method as string;
      const path = (call.target as NonNullable<ProxyCall['target']>).path;
      // A count started ahead was started for an allowed route only.
      if (call.earlyCount === undefined && !routeAllowed(call)) {
        throw new BffError('ROUTE_NOT_ALLOWED', `${method} ${path} is not allowed`);
      }
      call.key = keys.keyFor({ method, team: call.user?.team });
    };
    const countRateLimits: Step = (call) => {
      const principal = (call.user as NonNullable<ProxyCall['user']>).principal;
      const early = call.earlyCount;
      if (early?.principal === principal) {
        return early.outcome.then((refusal) => {
          for (const item of early.report.rateLimits ?? []) addRateLimit(call, item);
          if (refusal !== undefined) throw refusal;
        });
      }
      return rateLimit.count(
        call,
        principal,
        call.req.method as string,
        (call.target as NonNullable<ProxyCall['target']>).path,
      );
    };
    // After the rate limit (docs/contract.md, "Check order"): a rate-limited call spends no quota.
    const countQuotas: Step = (call) => {
      if (!quota.enabled) return;
      const user = call.user as NonNullable<ProxyCall['user']>;
      return quota.count(call, user.principal, user.team);
    };
    const readRequestBody: Step = (call) =>
      readBody(call.req, call.res, body, uploaderOf(call))?.then((read) => {
        call.body = read;
      });

    this.steps = [
      refuseUnforwardedMethod,
      refuseUnsafePath,
      refuseForeignOrigin,
      requireSession,
      refuseUnlistedRoute,
      countRateLimits,
      countQuotas,
      readRequestBody,
    ];
  }

  /** Handles one request whose target starts with `/api/gather/`. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const requestId = randomUUID();
    const url = req.url ?? '';
    const call: ProxyCall = {
      req,
      res,
      requestId,
      url,
      startedAt: Date.now(),
      trace: this.tracing.begin(req),
      timedOut: false,
      retried: false,
    };
    res.once('close', () => this.completed(call));
    void this.run(call).catch((err: unknown) => this.refuse(call, err));
  }

  private async run(call: ProxyCall): Promise<void> {
    for (const step of this.steps) {
      const pending = step(call);
      // Synchronous checks stay synchronous: no microtask per step that does not wait.
      if (pending) await pending;
    }
    // Sent on this turn of the event loop, after every read that is ready: the calls checked
    // together go to Gather together, one wake-up of Gather per turn rather than per call
    // (docs/architecture.md, "Batching by event-loop turn").
    setImmediate(this.forward, call);
  }

  private readonly forward = (call: ProxyCall): void => {
    try {
      call.forwarded = true;
      this.forwarder.forward(call);
    } catch (err) {
      call.forwarded = false;
      this.refuse(call, err);
    }
  };

  private refuse(call: ProxyCall, err: unknown): void {
    if (err instanceof BffError) {
      call.refusedWith = err.code;
      return this.forwarder.fail(call, err);
    }
    PinoLogger.root.error(
      { err, requestId: call.requestId, traceId: call.trace.traceId },
      'unhandled error',
    );
    this.forwarder.fail(call, new BffError('INTERNAL_ERROR'));
  }

  /**
   * The application's logger (nestjs-pino sets it up when the app initialises, after this is
   * built), writing `req` and `res` as given: the line has the shape pino-http gives the Nest
   * routes, without copying the request through its serializers. Without the root's redaction,
   * which clones every line it may apply to: this line holds no header, only the fields below.
   */
  private requestLog(): Logger {
    if (this.log?.root !== PinoLogger.root) {
      const root = PinoLogger.root;
      const child = root.child({}, { serializers: { req: asIs, res: asIs }, redact: [] });
      this.log = { root, child };
    }
    return this.log.child;
  }

  /** A signed-in user's call, forwarded or throttled, counts in their usage: one map increment. */
  private recordUsage(call: ProxyCall, status: number): void {
    const user = call.user;
    if (user === undefined) return;
    const outcome = call.forwarded
      ? status >= 400
        ? 'failed'
        : 'forwarded'
      : call.refusedWith !== undefined && THROTTLING.has(call.refusedWith)
        ? 'throttled'
        : undefined;
    if (outcome !== undefined) {
      this.usage.record(outcome, user.principal, user.team, call.key?.fingerprint);
    }
  }

  /** The request's one log line and one metrics observation, when its answer is done. */
  private completed(call: ProxyCall): void {
    const { req, res } = call;
    const status = res.statusCode;
    const responseTime = Date.now() - call.startedAt;
    this.metrics.proxiedRequest(req.method, status, responseTime / 1000);
    this.recordUsage(call, status);
    this.tracing.end(call.trace, status, res.writableFinished);
    this.requestLog()[requestLogLevel(res)](
      {
        req: { id: call.requestId, method: req.method, url: loggedUrl(call.url) },
        res: { statusCode: status },
        responseTime,
        userId: call.user?.id,
        gatherRequestId: call.gatherRequestId,
        traceId: call.trace.traceId,
      },
      res.writableFinished ? 'request completed' : 'request aborted',
    );
  }
}

/** The refusals usage counts as `throttled` (docs/capacity.md, "Usage"). */
const THROTTLING: ReadonlySet<string> = new Set([
  'RATE_LIMITED',
  'QUOTA_EXCEEDED',
  'UPSTREAM_THROTTLED',
]);

/** Already the shape of the request line: the root logger's HTTP serializers are not needed. */
const asIs = (value: unknown): unknown => value;
