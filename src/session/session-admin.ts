import { Inject, Injectable } from '@nestjs/common';
import { AdminSessions, type AdminSessionView } from '../observability/admin-sessions';
import { UserSessions } from './user-sessions.service';

/** The admin routes' view of a user's sessions (GET and DELETE /admin/users/<id>/sessions). */
@Injectable()
export class SessionAdmin extends AdminSessions {
  constructor(@Inject(UserSessions) private readonly sessions: UserSessions) {
    super();
  }

  async list(userId: string): Promise<AdminSessionView[]> {
    const sessions = await this.sessions.listUserId(userId);
    return sessions.map(({ id, createdAt, lastSeenAt, userAgent }) => ({
      id,
      createdAt,
      lastSeenAt,
      userAgent,
    }));
  }

  endAll(userId: string, requestId: string): Promise<number> {
    return this.sessions.endUserId(userId, 'admin', requestId);
  }
}
