import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import {
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
} from '@nestjs/throttler';
import type { ServerResponse } from 'node:http';
import { rateLimited } from './rate-limited';
import {
  writeRateLimitFields,
  type RateLimitItem,
  type RateLimitPolicy,
} from '../capacity/rate-limit-fields';
import { counterKey, isTighter, itemOf } from './rate-limit-report';
import type { RateLimitStore, ThrottlerStorageRecord } from './rate-limit.store';
import type { StoreFailurePolicy } from './store-failure.policy';

/**
 * What a request's `RateLimit` item says so far (the tightest of its throttlers), on the request
 * itself rather than in a WeakMap (docs/architecture.md, "No per-request state in long-lived
 * maps").
 */
const REPORTED = Symbol('rateLimitReported');
type Reported = object & { [REPORTED]?: RateLimitItem };

/**
 * The throttler as docs/contract.md ("Rate limits") has it: counters in our store,
 * `RateLimit-Policy` and `RateLimit` with one item, `policy`, the tightest of its throttlers, on
 * every response it passes or rejects (docs/capacity.md, "RateLimit fields"; no `X-RateLimit-*`
 * or per-throttler `Retry-After-<name>`), the 429 in Gather's envelope, and the
 * RATE_LIMIT_REDIS_FAILURE policy when the store does not answer.
 */
export abstract class StoreBackedThrottlerGuard extends ThrottlerGuard {
  protected constructor(
    options: ThrottlerModuleOptions,
    storage: RateLimitStore,
    reflector: Reflector,
    private readonly failure: StoreFailurePolicy,
    private readonly policy: RateLimitPolicy,
  ) {
    super(options, storage, reflector);
  }

  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    const { context, limit, ttl, throttler, blockDuration, getTracker, generateKey } = request;
    const name = throttler.name ?? 'default';
    const { req, res } = this.getRequestResponse(context);
    const tracker = await getTracker(req, context);
    // Nothing to count by (a login without a username): this throttler does not apply.
    if (tracker === '') return true;
    const key = generateKey(context, tracker, name);
    let record: ThrottlerStorageRecord;
    try {
      record = await this.storageService.increment(key, ttl, limit, blockDuration, name);
    } catch (err) {
      this.failure.onStoreError(err);
      return true;
    }
    this.report(req, res as ServerResponse, limit, record);
    if (record.isBlocked) {
      await this.throwThrottlingException(context, { ...record, limit, ttl, key, tracker });
    }
    return true;
  }

  /** Counters are per throttler and tracker, never per handler. */
  protected override generateKey(
    _context: ExecutionContext,
    tracker: string,
    name: string,
  ): string {
    return counterKey(name, tracker);
  }

  protected override throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    throw rateLimited(detail.timeToBlockExpire);
  }

  private report(
    req: object,
    res: ServerResponse,
    limit: number,
    record: ThrottlerStorageRecord,
  ): void {
    const next = itemOf(this.policy, limit, record);
    if (!isTighter((req as Reported)[REPORTED], next, record.isBlocked)) return;
    (req as Reported)[REPORTED] = next;
    writeRateLimitFields(res, [next]);
  }
}
