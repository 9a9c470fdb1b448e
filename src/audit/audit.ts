import { Logger } from '@nestjs/common';

/** The security events of docs/contract.md (Sessions, "Security events"). */
export type AuditEvent =
  | 'login.succeeded'
  | 'login.failed'
  | 'logout'
  | 'session.revoked'
  | 'backchannel.logout'
  | 'key.rotated'
  | 'key.rejected';

/**
 * What an audit line may carry besides its event. Callers pass ids and labels only: never a
 * password, token, cookie, session id or key (a key by its fingerprint).
 */
export interface AuditFields {
  /** The user, where known; for `login.failed` only when the username names an existing user. */
  readonly userId?: string | undefined;
  /** The request that caused the event. */
  readonly requestId?: string | undefined;
  readonly [field: string]: string | number | boolean | undefined;
}

const logger = new Logger('Audit');

/** One JSON log line at level info with `"audit": true`, for one security event. */
export function audit(event: AuditEvent, fields: AuditFields = {}): void {
  logger.log({ ...fields, audit: true, event }, `audit: ${event}`);
}
