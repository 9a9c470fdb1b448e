import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import type { SessionUser } from '../session/session-user';
import { loadLocalUsers, type LocalUser } from './local-users';
import { decoyHashLike, verifyPassword } from './password-hash';

/**
 * The local users of `AUTH_LOCAL_USERS_FILE`, loaded and validated at start-up, and the
 * password check behind `POST /auth/login`.
 */
@Injectable()
export class LocalCredentials implements OnModuleInit {
  private readonly file: string | undefined;
  private users = new Map<string, LocalUser>();
  private decoyHash = '';

  constructor(@Inject(ConfigService) config: ConfigService<AppConfig, true>) {
    this.file = config.get('auth', { infer: true }).localUsersFile;
  }

  /** Local login exists only when a users file is configured. */
  get enabled(): boolean {
    return this.file !== undefined;
  }

  // At init rather than in a factory: a bad file then fails `listen()` with its message.
  async onModuleInit(): Promise<void> {
    if (this.file === undefined) return;
    const users = await loadLocalUsers(this.file);
    this.users = new Map(users.map((u) => [u.username, u]));
    this.decoyHash = await decoyHashLike((users[0] as LocalUser).passwordHash);
  }

  /** Whether `username` names a local user (for the audit log, never for the answer). */
  has(username: string): boolean {
    return this.users.has(username);
  }

  /**
   * The user whose username and password these are. An unknown username still costs one
   * hash verification, so the answer time does not tell which usernames exist.
   */
  async verify(username: string, password: string): Promise<SessionUser | undefined> {
    const user = this.users.get(username);
    const matches = await verifyPassword(user?.passwordHash ?? this.decoyHash, password);
    if (!user || !matches) return undefined;
    const { name, email, team } = user;
    return team === undefined ? { id: username, name, email } : { id: username, name, email, team };
  }
}
