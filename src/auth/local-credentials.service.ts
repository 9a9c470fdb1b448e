import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import type { SessionUser } from '../session/session-user';
import { loadLocalUsers, type LocalUser } from './local-users';
import { hashCost, slowestDecoyHash, verifyPassword } from './password-hash';

/**
 * The local users of `AUTH_LOCAL_USERS_FILE`, loaded and validated at start-up, and the
 * password check behind `POST /auth/login`.
 */
@Injectable()
export class LocalCredentials implements OnModuleInit {
  private readonly file: string | undefined;
  private users = new Map<string, LocalUser>();
  private decoyHash = '';
  /** The users whose own hash is cheaper than the decoy, and who therefore also check it. */
  private cheaperThanDecoy = new Set<string>();

  constructor(@Inject(ConfigService) config: ConfigService<AppConfig, true>) {
    this.file = config.get('auth', { infer: true }).localUsersFile;
  }

  // At init rather than in a factory: a bad file then fails `listen()` with its message.
  async onModuleInit(): Promise<void> {
    if (this.file === undefined) return;
    const users = await loadLocalUsers(this.file);
    this.users = new Map(users.map((u) => [u.username, u]));
    this.decoyHash = await slowestDecoyHash(users.map((u) => u.passwordHash));
    const decoyCost = hashCost(this.decoyHash);
    this.cheaperThanDecoy = new Set(
      users.filter((u) => hashCost(u.passwordHash) !== decoyCost).map((u) => u.username),
    );
  }

  /** Whether `username` names a local user (for the audit log, never for the answer). */
  has(username: string): boolean {
    return this.users.has(username);
  }

  /**
   * The user whose username and password these are. Every answer takes as long as the
   * slowest hash of the file, so its time tells neither which usernames exist nor how each
   * is hashed (docs/contract.md, Routes: `POST /auth/login`): an unknown username is checked
   * against a decoy of that cost, and a user with a cheaper hash checks the decoy alongside
   * their own. Running both at once, rather than sleeping up to a time measured at start-up,
   * keeps the two paths alike when the machine is busy, for one extra check per such login.
   */
  async verify(username: string, password: string): Promise<SessionUser | undefined> {
    const user = this.users.get(username);
    const checks = [verifyPassword(user?.passwordHash ?? this.decoyHash, password)];
    if (this.cheaperThanDecoy.has(username)) checks.push(verifyPassword(this.decoyHash, password));
    const [matches] = await Promise.all(checks);
    if (!user || !matches) return undefined;
    const { name, email, team } = user;
    return team === undefined ? { id: username, name, email } : { id: username, name, email, team };
  }
}
