import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { SessionData } from 'express-session';
import type { AppConfig } from '../config/config.schema';
import { ProviderRecheck } from './provider-recheck';
import { liveUser, type SignedInUser } from './session-user';

/**
 * What a session read from the store is now: its user while live; 'absolute' when past its
 * absolute timeout (the caller ends it with that reason, the way it holds the session); 'ended'
 * when the provider refused it at a due re-check (ended already); 'none' when it has no user.
 */
export type SessionVerdict = SignedInUser | 'absolute' | 'ended' | 'none';

/**
 * The one rule of whether a session still stands, for both ways a request reaches it (the Nest
 * routes' SessionGuard, the proxied path's SessionLookup): the absolute timeout, then the
 * provider re-check when due (docs/contract.md, Sessions).
 */
@Injectable()
export class SessionValidity {
  private readonly absoluteMs: number;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(ProviderRecheck) private readonly recheck: Pick<ProviderRecheck, 'isDue' | 'check'>,
  ) {
    this.absoluteMs = config.get('session', { infer: true }).absoluteTimeoutSeconds * 1000;
  }

  /**
   * The verdict on session `sid`, read as `data`, at `now`; `requestId` names the request in the
   * security event of a session the provider ends. A promise only when a re-check is due: a
   * number comparison for every other session.
   */
  verdict(
    sid: string,
    data: SessionData,
    requestId: string | undefined,
    now: number,
  ): SessionVerdict | Promise<SessionVerdict> {
    const user = liveUser(data, this.absoluteMs, now);
    if (user === undefined) return data.user ? 'absolute' : 'none';
    if (!this.recheck.isDue(data, now)) return user;
    return this.recheck.check(sid, data, requestId).then((live) => (live ? user : 'ended'));
  }
}
