import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import { Metrics } from '../observability/metrics.service';
import { REDIS_CLIENT } from '../redis/redis.module';
import type { RedisClient } from '../redis/redis-client';
import { readinessCheck } from '../http/readiness';
import { MemorySessionStore } from './memory-session.store';
import { RedisSessionStore } from './redis-session.store';
import { SessionLookup } from './session-lookup';
import { SessionService } from './session.service';
import { ProviderRecheck } from './provider-recheck';
import { SessionValidity } from './session-validity';
import { SessionAdminRoutes } from './session-admin';
import { SessionEvents } from './session-events';
import { SessionStore } from './session-store';
import { UserSessions } from './user-sessions.service';

/**
 * Owns server-side sessions: the store behind `SessionStore` (Redis, shared by every replica,
 * when REDIS_URL is set; bounded memory otherwise), the cookie policy and the express-session
 * middleware. Global because every guarded route reads the session through `SessionService`.
 * AuthModule mounts the middleware on /auth only, behind the origin and CSRF checks; the proxied
 * path reads the session through SessionLookup, without express-session.
 */
@Global()
@Module({
  providers: [
    {
      provide: SessionStore,
      inject: [ConfigService, REDIS_CLIENT, Metrics],
      useFactory: (
        config: ConfigService<AppConfig, true>,
        redis: RedisClient | null,
        metrics: Metrics,
      ): SessionStore => {
        const settings = config.get('session', { infer: true });
        const idleMs = settings.idleTimeoutSeconds * 1000;
        return redis
          ? new RedisSessionStore(redis, {
              idleMs,
              absoluteMs: settings.absoluteTimeoutSeconds * 1000,
            })
          : new MemorySessionStore({
              max: settings.memoryMaxSessions,
              ttlMs: idleMs,
              onIdleExpiry: () => metrics.sessionEnded('idle'),
            });
      },
    },
    SessionService,
    SessionEvents,
    UserSessions,
    SessionAdminRoutes,
    ProviderRecheck,
    SessionValidity,
    SessionLookup,
    // `/readyz` fails while the session store does not answer (docs/contract.md, "Health and metrics").
    readinessCheck('session-store', SessionStore, (store) => store.ping()),
  ],
  exports: [
    SessionStore,
    SessionService,
    SessionLookup,
    UserSessions,
    ProviderRecheck,
    SessionValidity,
  ],
})
export class SessionModule {}
