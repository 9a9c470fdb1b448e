import { Global, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import { MemorySessionStore } from './memory-session.store';
import { SessionStoreReadiness } from './session-readiness';
import { SessionMiddleware } from './session.middleware';
import { SessionService } from './session.service';
import { SessionStore } from './session-store';

/**
 * Owns server-side sessions: the store (bounded memory; a shared store plugs in behind
 * `SessionStore`), the cookie policy and the express-session middleware. Global because
 * every guarded route reads the session through `SessionService`.
 */
@Global()
@Module({
  providers: [
    {
      provide: SessionStore,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>): SessionStore => {
        const settings = config.get('session', { infer: true });
        return new MemorySessionStore({
          max: settings.memoryMaxSessions,
          ttlMs: settings.idleTimeoutSeconds * 1000,
        });
      },
    },
    SessionService,
    SessionStoreReadiness,
  ],
  exports: [SessionStore, SessionService],
})
export class SessionModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // Health, metrics and static pages never touch the session store.
    consumer.apply(SessionMiddleware).forRoutes('auth', 'api/gather');
  }
}
