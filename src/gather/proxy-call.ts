import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../http/error-codes';
import type { HeldKey } from '../keys/gather-keys.service';
import type { RequestTrace } from '../observability/tracing';
import type { RateLimitItem, RateLimitItems } from '../capacity/rate-limit-fields';
import type { Principal } from '../session/principal';
import type { SignedInUser } from '../session/session-user';
import type { UpstreamTarget } from './path-policy';

/** One browser request on the proxied path, from its first check to its last byte. */
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
  /** Set by the path check: what goes to Gather. */
  target?: UpstreamTarget;
  /** Set by the session check. */
  user?: SignedInUser;
  /** Set with the allow-list: the key this request is forwarded with. */
  key?: HeldKey;
  /**
   * The items of the answer's `RateLimit-Policy` and `RateLimit`, one per policy that counted the
   * request, in the order counted (add with addRateLimit, capacity/rate-limit-fields.ts).
   */
  rateLimits?: RateLimitItem[];
  /**
   * The count started beside the session read for the user this session last had on this
   * replica; it stands only once the session check confirms that user.
   */
  earlyCount?: EarlyCount;
  /** Handed to the forwarder: counts as a call to Gather in usage. */
  forwarded?: boolean;
  /** The BFF's own refusal, if the call got one before it was forwarded. */
  refusedWith?: ErrorCode;
  /** The buffered request body, if it has one. */
  body?: Buffer;
  /** Gather's request id, when Gather answered with a usable one. */
  gatherRequestId?: string;
  /**
   * `Date.now()` by which Gather's response head must be in, set by the first attempt: a retry
   * or a replay gets what is left of it, not a deadline of its own.
   */
  headDueAt?: number;
  /** Gather did not answer within GATHER_TIMEOUT_MS. */
  timedOut: boolean;
  /** Replayed once already after Gather refused the key. */
  retried: boolean;
  /** The connection of the latest attempt to Gather, and what it had read before that attempt. */
  upstreamSocket?: Socket;
  upstreamReadBefore?: number;
  /** Sent again once already, on a new connection, after the first got no answer. */
  reconnected?: boolean;
}

/** A rate-limit count run ahead of the session check (see ProxyCall.earlyCount). */
export interface EarlyCount {
  readonly principal: Principal;
  /** Where the count put its `RateLimit` items. */
  readonly report: RateLimitItems;
  /** Settles when the count is done: with its refusal (429, 503), or undefined. */
  readonly outcome: Promise<Error | undefined>;
}

/**
 * Whose share of the body budget a call's upload counts against: the session's principal, known
 * by the time the body is read (docs/architecture.md, "One proxied request").
 */
export function uploaderOf(call: ProxyCall): string {
  return call.user?.principal ?? '';
}
