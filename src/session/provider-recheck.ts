import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { SessionData } from 'express-session';
import { createHash } from 'node:crypto';
import type { AppConfig } from '../config/config.schema';
import { withDeadline } from '../http/deadline';
import { BffError } from '../http/error-codes';
import { REDIS_CLIENT } from '../redis/redis.module';
import { REDIS_COMMAND_TIMEOUT_MS, type RedisClient } from '../redis/redis-client';
import { SessionStore } from './session-store';
import { REFRESH_TOKEN_SEAL, TokenSeal } from './token-seal';
import { UserSessions } from './user-sessions.service';

/** What the provider said to one refresh. */
export type RefreshOutcome =
  /** Still signed in there; `refreshToken` when it rotated the token. */
  | { readonly kind: 'valid'; readonly refreshToken?: string }
  /** `invalid_grant`: the user was disabled or the grant revoked. */
  | { readonly kind: 'refused' }
  /** No answer, or one that says nothing about the user; `reason` is log-safe. */
  | { readonly kind: 'unreachable'; readonly reason: string };

/** The provider side of the re-check, implemented where OIDC lives (auth/oidc) and registered. */
export interface ProviderRefresher {
  refresh(refreshToken: string): Promise<RefreshOutcome>;
}

/**
 * Longest a replica holds a session's re-check to itself: released when the check is done, this
 * bound only frees the lock of a replica that died holding it.
 */
const LOCK_MS = 15_000;
export const RECHECK_LOCK_PREFIX = 'gbff:lock:recheck:';

/**
 * The provider re-check of sessions that keep a refresh token (docs/contract.md, Sessions:
 * "Provider re-check"): on use, at most every OIDC_SESSION_CHECK_SECONDS, the refresh token is
 * used once at the provider. A refusal ends the session; an unreachable provider does not (a
 * warn line). One re-check per session at a time: in this process (one promise per session) and
 * across replicas (a Redis lock; a replica that does not get it lets the request through, the
 * holder ends the session if it must). The holder reads the session again first: a check that
 * finished since the caller read it has moved `checkedAt`, and may have rotated the token, which
 * the provider would refuse if refreshed a second time.
 */
@Injectable()
export class ProviderRecheck {
  private readonly logger = new Logger('ProviderRecheck');
  private readonly intervalMs: number;
  private readonly seal: TokenSeal;
  private refresher: ProviderRefresher | undefined;
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(SessionStore) private readonly store: SessionStore,
    @Inject(UserSessions) private readonly sessions: UserSessions,
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient | null,
  ) {
    this.intervalMs = config.get('auth', { infer: true }).oidcSessionCheckSeconds * 1000;
    this.seal = new TokenSeal(config.get('session', { infer: true }).secrets, REFRESH_TOKEN_SEAL);
  }

  /** Called by the OIDC module: who refreshes. Without one, nothing is re-checked. */
  use(refresher: ProviderRefresher): void {
    this.refresher = refresher;
  }

  /** A refresh token as the session keeps it (sealed), with the time it was last checked. */
  sessionFields(refreshToken: string): Pick<SessionData, 'refreshToken' | 'checkedAt'> {
    return { refreshToken: this.seal.seal(refreshToken), checkedAt: Date.now() };
  }

  /** Whether `data` is due a re-check now: a comparison of two numbers, no I/O. */
  isDue(data: SessionData, now: number): boolean {
    return data.refreshToken !== undefined && now - (data.checkedAt ?? 0) >= this.intervalMs;
  }

  /**
   * Re-checks session `sid` (due, see `isDue`) at the provider; false when the provider refused
   * it and the session has been ended.
   */
  check(sid: string, data: SessionData, requestId: string | undefined): Promise<boolean> {
    let pending = this.inFlight.get(sid);
    if (!pending) {
      pending = this.run(sid, data, requestId).finally(() => this.inFlight.delete(sid));
      this.inFlight.set(sid, pending);
    }
    return pending;
  }

  private async run(
    sid: string,
    data: SessionData,
    requestId: string | undefined,
  ): Promise<boolean> {
    if (!this.refresher || data.refreshToken === undefined) return true;
    const lockKey = await this.lock(sid);
    if (lockKey === undefined) return true;
    try {
      const current = await this.store.lookup(sid);
      // Ended meanwhile (a refusal seen by another request or replica, a logout).
      if (current === null) return false;
      if (!this.isDue(current, Date.now())) return true;
      return await this.refresh(sid, current, requestId);
    } finally {
      await this.unlock(lockKey);
    }
  }

  /** Refreshes the session's token at the provider and records the outcome. */
  private async refresh(
    sid: string,
    data: SessionData,
    requestId: string | undefined,
  ): Promise<boolean> {
    const token = data.refreshToken === undefined ? undefined : this.seal.open(data.refreshToken);
    if (!this.refresher || token === undefined) return true;
    const outcome = await this.refresher.refresh(token);
    switch (outcome.kind) {
      case 'refused':
        await this.sessions.end(sid, 'provider', requestId);
        return false;
      case 'unreachable':
        this.logger.warn(
          { requestId },
          `Provider re-check failed (${outcome.reason}); the session stays until the next check`,
        );
        break;
      case 'valid':
        break;
    }
    const rotated = outcome.kind === 'valid' ? outcome.refreshToken : undefined;
    await this.store.update(sid, {
      ...data,
      checkedAt: Date.now(),
      ...(rotated === undefined ? {} : { refreshToken: this.seal.seal(rotated) }),
    });
    return true;
  }

  /**
   * Takes the cross-replica lock of one session's re-check: its key, or undefined when another
   * replica holds it. Without Redis the in-process promise is the lock ('' here).
   */
  private async lock(sid: string): Promise<string | undefined> {
    if (!this.redis) return '';
    const key = RECHECK_LOCK_PREFIX + createHash('sha256').update(sid).digest('hex');
    try {
      const set = await withDeadline(
        this.redis.set(key, '1', { condition: 'NX', expiration: { type: 'PX', value: LOCK_MS } }),
        REDIS_COMMAND_TIMEOUT_MS,
      );
      return set === 'OK' ? key : undefined;
    } catch {
      throw new BffError('SERVICE_UNAVAILABLE', 'Sessions are unavailable');
    }
  }

  /**
   * Releases a lock taken by `lock`. Unconditionally: the refresh it covered is bounded by the
   * provider's timeout, well inside LOCK_MS, so the lock is still this replica's. A failed
   * release leaves it to expire.
   */
  private async unlock(key: string): Promise<void> {
    if (!this.redis || key === '') return;
    await withDeadline(this.redis.del(key), REDIS_COMMAND_TIMEOUT_MS).catch(() => undefined);
  }
}
