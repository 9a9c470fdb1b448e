import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { AdminRoutes, sendJson } from '../http/admin-routes';
import { UserSessions } from './user-sessions.service';

/** `/admin/users/<userId>/sessions`, the user id percent-encoded as one segment. */
const USER_SESSIONS = /^\/admin\/users\/([^/]+)\/sessions$/;

/**
 * The session module's admin routes (docs/contract.md, Routes): a user's sessions, listed or
 * ended on every replica. Shown by an opaque handle, never a session id or token.
 */
@Injectable()
export class SessionAdminRoutes implements OnModuleInit {
  constructor(
    @Inject(UserSessions) private readonly sessions: UserSessions,
    @Optional() @Inject(AdminRoutes) private readonly routes: AdminRoutes | null,
  ) {}

  onModuleInit(): void {
    this.routes?.add(
      {
        method: 'GET',
        pattern: USER_SESSIONS,
        handle: async (_req, res, { params: [userId = ''] }) => {
          const sessions = await this.sessions.listUserId(userId);
          sendJson(res, {
            sessions: sessions.map(({ id, createdAt, lastSeenAt, userAgent }) => ({
              id,
              createdAt,
              lastSeenAt,
              userAgent,
            })),
          });
        },
      },
      {
        method: 'DELETE',
        pattern: USER_SESSIONS,
        handle: async (_req, res, { params: [userId = ''], requestId }) =>
          sendJson(res, { ended: await this.sessions.endUserId(userId, 'admin', requestId) }),
      },
    );
  }
}
