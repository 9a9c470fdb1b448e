import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '../http/error-codes';
import type { HeldKey } from '../keys/gather-keys.service';
import type { RequestTrace } from '../observability/tracing';
import type { RateLimitItem, RateLimitItems } from '../capacity/rate-limit-fields';
import type { EarlyCount } from '../rate-limit/proxy-rate-limit';
import type { SignedInUser } from '../session/session-user';
import type { UpstreamTarget } from './path-policy';

/**
 * One browser request on the proxied path as it arrives, and what its answer and its log line
 * need at whatever step it is refused. Each step of the pipeline returns the next stage below
 * (docs/architecture.md, "One proxied request").
 */
export interface ProxyCall extends RateLimitItems {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The BFF's id for this request: sent to Gather, and the browser's X-Request-Id fallback. */
  readonly requestId: string;
  /** The request target as the browser sent it (`req.url` becomes Gather's path). */
  readonly url: string;
  /** `Date.now()` when the request arrived. */
  readonly startedAt: number;
  /** Its W3C trace: the id on its log lines, what Gather's traceparent continues. */
  readonly trace: RequestTrace;
  /** Once the session check passed (SignedInCall): the user on the log line. */
  readonly user?: SignedInUser;
  /**
   * The items of the answer's `RateLimit-Policy` and `RateLimit`, one per policy that counted the
   * request, refused or not, in the order counted (add with addRateLimit,
   * capacity/rate-limit-fields.ts).
   */
  rateLimits?: RateLimitItem[];
  /** Gather's request id, when Gather answered with a usable one. */
  gatherRequestId?: string;
  /**
   * A count started beside the session read and not settled yet: what a refusal before the
   * count gives back (rate-limit/proxy-rate-limit.ts, `abandon`).
   */
  earlyCount?: EarlyCount;
  /** Once the allow-list passed (AllowedCall): the key, whose usage the call counts in. */
  readonly key?: HeldKey;
  /** Handed to the forwarder: a call to Gather, for usage. */
  forwarded?: boolean;
  /** The BFF's own refusal, if it answered before forwarding: throttled or not, for usage. */
  refusedWith?: ErrorCode;
}

/** Its path checked: what goes to Gather, and whether the allow-list lists it. */
export interface TargetedCall extends ProxyCall {
  readonly target: UpstreamTarget;
  /** Refused, when false, only after the session check (docs/contract.md, "Check order"). */
  readonly listed: boolean;
}

/** Signed in: a live session's user, with the principal rate limits and shares key by. */
export interface SignedInCall extends TargetedCall {
  readonly user: SignedInUser;
}

/** On the allow-list, with the key it goes to Gather with (replaced once if Gather refuses it). */
export interface AllowedCall extends SignedInCall {
  key: HeldKey;
}

/** Counted and its body read: what the forwarder sends. */
export interface ForwardableCall extends AllowedCall {
  readonly body: Buffer | undefined;
}
