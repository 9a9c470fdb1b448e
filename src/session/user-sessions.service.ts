import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import type { SessionEndReason } from './session-kinds';
import { SessionEvents } from './session-events';
import { SessionHandles } from './session-handle';
import { PRINCIPAL_KINDS, principalOf, type Principal } from './principal';
import { SessionStore, type IndexedSession } from './session-store';
import { liveUser } from './session-user';

/** A session as its user or an operator sees it: never its id, never a token. */
export interface SessionView {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  userAgent: string | null;
}

/** A listed session with its store id, which never leaves the BFF. */
export type ListedSession = SessionView & { sid: string };

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
   * The principal's live sessions, oldest first: not those past their absolute timeout, which
   * the in-memory store keeps until they idle out (any use of one ends it).
   */
  async list(principal: Principal): Promise<ListedSession[]> {
    return this.views(await this.live(principal));
  }

  /**
   * The live sessions of everyone whose user id is `userId`, local and OIDC alike, oldest first:
   * what the admin routes act on (docs/contract.md, "Admin routes").
   */
  async listUserId(userId: string): Promise<ListedSession[]> {
    const found = await Promise.all(
      PRINCIPAL_KINDS.map((kind) => this.live(principalOf(kind, userId))),
    );
    return this.views(found.flat());
  }

  /** Ends every session of everyone whose user id is `userId`; how many there were. */
  async endUserId(
    userId: string,
    reason: SessionEndReason,
    requestId: string | undefined,
  ): Promise<number> {
    const sessions = await this.listUserId(userId);
    return this.endEach(
      sessions.map((s) => s.sid),
      reason,
      requestId,
    );
  }

  private async live(principal: Principal): Promise<IndexedSession[]> {
    const sessions = await this.store.sessionsOf(principal);
    const now = Date.now();
    return sessions.filter(
      ({ data }) => liveUser(data, this.absoluteMs, now)?.principal === principal,
    );
  }

  private views(sessions: IndexedSession[]): ListedSession[] {
    return sessions
      .sort((a, b) => (a.data.createdAt ?? 0) - (b.data.createdAt ?? 0))
      .map(({ sid, data, lastSeenAt }) => ({
        sid,
        id: this.handles.of(sid),
        createdAt: new Date(data.createdAt ?? lastSeenAt).toISOString(),
        lastSeenAt: new Date(lastSeenAt).toISOString(),
        userAgent: data.userAgent ?? null,
      }));
  }

  /** Ends the session of `principal` listed as `handle`; false when it is not one of theirs. */
  async endByHandle(
    principal: Principal,
    handle: string,
    reason: SessionEndReason,
    requestId: string | undefined,
  ): Promise<boolean> {
    const match = (await this.list(principal)).find((s) => s.id === handle);
    return match !== undefined && (await this.end(match.sid, reason, requestId));
  }

  /**
   * Makes room for one more session of `principal` under `max`: ends their oldest sessions
   * (reason `superseded`) until fewer than `max` remain. Before a sign-in's session is written,
   * so it never counts itself.
   */
  async makeRoom(principal: Principal, max: number, requestId: string | undefined): Promise<void> {
    const sessions = await this.list(principal);
    const excess = sessions.length - max + 1;
    if (excess <= 0) return;
    await this.endEach(
      sessions.slice(0, excess).map((s) => s.sid),
      'superseded',
      requestId,
    );
  }

  /** Ends every session of `principal`; how many there were. */
  async endAll(
    principal: Principal,
    reason: SessionEndReason,
    requestId: string | undefined,
  ): Promise<number> {
    const sessions = await this.list(principal);
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
