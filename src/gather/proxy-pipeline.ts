import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppConfig } from '../config/config.schema';
import { requestLogLevel } from '../http/envelope';
import { BffError, type ErrorCode } from '../http/error-codes';
import { Steps, type Step } from '../http/steps';
import { GatherKeys } from '../keys/gather-keys.service';
import { Metrics } from '../observability/metrics.service';
import { Tracing } from '../observability/tracing';
import { loggedUrl } from '../observability/logged-url';
import { KeyPauses } from '../capacity/key-pauses';
import {
  NO_EARLY_COUNT,
  ProxyRateLimit,
  type EarlyCountable,
} from '../rate-limit/proxy-rate-limit';
import { SessionLookup } from '../session/session-lookup';
import { UsageRecorder } from '../usage/usage-recorder';
import { compileRules } from './allow-list';
import { GatherForwarder } from './gather-forwarder';
import {
  allowedKey,
  checkTarget,
  refuseForeignOrigin,
  refuseUnforwardedMethod,
} from './gather-steps';
import { bodyLimits, readBodyStep } from './request-body';
import type { ForwardableCall, ProxyCall } from './proxy-call';

/**
 * `ANY /api/gather/*`: the proxied path, as one list of typed steps composed once at start-up
 * from the same providers the Nest routes use, run ahead of Express (its router, helmet,
 * express-session and the per-route guards cost several times what a call needs). Each step
 * takes the stage the one before returns (proxy-call.ts); the order is the contract's
 * (docs/contract.md, "Check order"); the first refusal answers. One log line and one metrics
 * observation per request (docs/architecture.md, "One proxied request").
 */
@Injectable()
export class ProxyPipeline {
  private readonly checks: Step<ProxyCall, ForwardableCall>;
  private log: { root: Logger; child: Logger } | undefined;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(SessionLookup) sessions: SessionLookup,
    @Inject(GatherKeys) keys: GatherKeys,
    @Inject(ProxyRateLimit) private readonly rateLimit: ProxyRateLimit,
    @Inject(KeyPauses) pauses: KeyPauses,
    @Inject(UsageRecorder) private readonly usage: UsageRecorder,
    @Inject(GatherForwarder) private readonly forwarder: GatherForwarder,
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(Tracing) private readonly tracing: Tracing,
  ) {
    const proxy = config.get('proxy', { infer: true });
    const allowedOrigins = new Set(config.get('server.allowedOrigins', { infer: true }));
    this.checks = Steps.first<ProxyCall, ProxyCall>(refuseUnforwardedMethod)
      .then(checkTarget(compileRules(proxy.allow)))
      .then(refuseForeignOrigin(allowedOrigins))
      .then(sessions.cookie)
      // Nothing counted ahead while a key is paused: a call its key's pause refuses counts
      // against no limit (docs/capacity.md, "Pauses").
      .then(<C extends EarlyCountable>(call: C) =>
        pauses.anyPaused ? Object.assign(call, NO_EARLY_COUNT) : rateLimit.countAhead(call),
      )
      .then(sessions.signIn)
      .then(allowedKey(keys))
      .then(pauses.refuseWhilePaused)
      // The call's quotas ride in its count (docs/capacity.md, "At scale").
      .then(rateLimit.countCall)
      .then(readBodyStep(bodyLimits(proxy))).run;
  }

  /** Handles one request whose target starts with `/api/gather/`. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const call: ProxyCall = {
      req,
      res,
      requestId: randomUUID(),
      url: req.url ?? '',
      startedAt: Date.now(),
      trace: this.tracing.begin(req),
    };
    // `on`, not `once`: a response closes once, and `once` wraps each listener in two more objects.
    res.on('close', () => this.completed(call));
    let checked: ForwardableCall | Promise<ForwardableCall>;
    try {
      checked = this.checks(call);
    } catch (err) {
      return this.refuse(call, err);
    }
    if (checked instanceof Promise) {
      checked.then(this.forwardSoon, (err: unknown) => this.refuse(call, err));
    } else this.forwardSoon(checked);
  }

  /**
   * Sent on this turn of the event loop, after every read that is ready: the calls checked
   * together go to Gather together, one wake-up of Gather per turn rather than per call
   * (docs/architecture.md, "Batching by event-loop turn").
   */
  private readonly forwardSoon = (call: ForwardableCall): void => {
    setImmediate(this.forward, call);
  };

  private readonly forward = (call: ForwardableCall): void => {
    try {
      call.forwarded = true;
      this.forwarder.forward(call);
    } catch (err) {
      call.forwarded = false;
      this.refuse(call, err);
    }
  };

  private refuse(call: ProxyCall, err: unknown): void {
    // Refused before its count settled: nothing is forwarded, so no quota is spent.
    if (call.earlyCount !== undefined) this.rateLimit.abandon(call.earlyCount);
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
const THROTTLING: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'RATE_LIMITED',
  'QUOTA_EXCEEDED',
  'UPSTREAM_THROTTLED',
]);

/** Already the shape of the request line: the root logger's HTTP serializers are not needed. */
const asIs = (value: unknown): unknown => value;
