import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import type { SessionEndReason } from '../observability/metrics.service';
import { SessionEvents } from './session-events';
import { SessionHandles } from './session-handle';
import { SessionStore } from './session-store';
import { liveUser } from './session-user';

/** A session as its user or an operator sees it: never its id, never a token. */
export interface SessionView {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  userAgent: string | null;
}

/**
 * Lists and ends a user's sessions through the store's per-user index, so with Redis every
 * replica sees and ends the same ones (docs/contract.md, Sessions: "Listing and ending
 * sessions"). Sessions are named by opaque handles (SessionHandles).
 */
@Injectable()
export class UserSessions {
  private readonly handles: SessionHandles;
  private readonly absoluteMs: number;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(SessionStore) private readonly store: SessionStore,
    @Inject(SessionEvents) private readonly events: SessionEvents,
  ) {
    const session = config.get('session', { infer: true });
    this.handles = new SessionHandles(session.secrets);
    this.absoluteMs = session.absoluteTimeoutSeconds * 1000;
  }

  handleOf(sid: string): string {
    return this.handles.of(sid);
  }

  /**
   * The user's live sessions, oldest first: not those past their absolute timeout, which the
   * in-memory store keeps until they idle out (any use of one ends it).
   */
  async list(userId: string): Promise<Array<SessionView & { sid: string }>> {
    const sessions = await this.store.sessionsOf(userId);
    const now = Date.now();
    return sessions
      .filter(({ data }) => liveUser(data, this.absoluteMs, now)?.id === userId)
      .sort((a, b) => (a.data.createdAt ?? 0) - (b.data.createdAt ?? 0))
      .map(({ sid, data, lastSeenAt }) => ({
        sid,
        id: this.handles.of(sid),
        createdAt: new Date(data.createdAt ?? lastSeenAt).toISOString(),
        lastSeenAt: new Date(lastSeenAt).toISOString(),
        userAgent: data.userAgent ?? null,
      }));
  }

  /** Ends the session of `userId` listed as `handle`; false when it is not one of theirs. */
  async endByHandle(
    userId: string,
    handle: string,
    reason: SessionEndReason,
    requestId: string | undefined,
  ): Promise<boolean> {
    const match = (await this.list(userId)).find((s) => s.id === handle);
    return match !== undefined && (await this.end(match.sid, reason, requestId));
  }

  /** Ends every session of `userId`; how many there were. */
  async endAll(
    userId: string,
    reason: SessionEndReason,
    requestId: string | undefined,
  ): Promise<number> {
    const sessions = await this.list(userId);
    return this.endEach(
      sessions.map((s) => s.sid),
      reason,
      requestId,
    );
  }

  /** Ends the sessions started from provider session `providerSid`; how many there were. */
  async endProviderSession(
    providerSid: string,
    reason: SessionEndReason,
    requestId: string | undefined,
  ): Promise<number> {
    return this.endEach(await this.store.sidsOfProviderSession(providerSid), reason, requestId);
  }

  /** Ends session `sid`, reporting it once; false when it was already gone. */
  async end(
    sid: string,
    reason: SessionEndReason,
    requestId: string | undefined,
  ): Promise<boolean> {
    const data = await this.store.end(sid);
    if (data === null) return false;
    this.events.ended(data, reason, requestId, this.handles.of(sid));
    return true;
  }

  private async endEach(
    sids: readonly string[],
    reason: SessionEndReason,
    requestId: string | undefined,
  ): Promise<number> {
    const ended = await Promise.all(sids.map((sid) => this.end(sid, reason, requestId)));
    return ended.filter(Boolean).length;
  }
}
