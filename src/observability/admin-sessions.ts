/** A session as the admin routes show it: an opaque handle, never a session id or token. */
export interface AdminSessionView {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  userAgent: string | null;
}

/**
 * What the admin routes of the metrics listener may do with sessions; provided by the session
 * module, so observability/ depends on no feature module (the token is this abstract class).
 */
export abstract class AdminSessions {
  abstract list(userId: string): Promise<AdminSessionView[]>;
  /** Ends every session of `userId` on every replica; how many ended. */
  abstract endAll(userId: string, requestId: string): Promise<number>;
}
