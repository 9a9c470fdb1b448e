import { Inject, Injectable } from '@nestjs/common';
import type { SessionData } from 'express-session';
import { audit, type AuditEvent } from '../audit/audit';
import { Metrics } from '../observability/metrics.service';
import type { SessionEndReason, SignInMethod } from './session-kinds';

/** The audit event of each way a session ends; idle and absolute timeouts are not events. */
const END_EVENTS: Readonly<Record<SessionEndReason, AuditEvent | undefined>> = {
  logout: 'logout',
  everywhere: 'logout',
  revoked: 'session.revoked',
  admin: 'session.revoked',
  'back-channel': 'backchannel.logout',
  provider: 'session.revoked',
  superseded: 'session.revoked',
  idle: undefined,
  absolute: undefined,
};

/** Counts and audits sessions starting and ending: one place, so each is reported once. */
@Injectable()
export class SessionEvents {
  constructor(@Inject(Metrics) private readonly metrics: Metrics) {}

  started(userId: string, method: SignInMethod, requestId: string | undefined): void {
    this.metrics.sessionStarted(method);
    audit('login.succeeded', { userId, requestId, method });
  }

  /** One session ended; `handle` (never the session id) tells the lines of one action apart. */
  ended(
    data: SessionData,
    reason: SessionEndReason,
    requestId: string | undefined,
    handle: string,
  ): void {
    this.metrics.sessionEnded(reason);
    const event = END_EVENTS[reason];
    if (event) audit(event, { userId: data.user?.id, requestId, reason, session: handle });
  }
}
