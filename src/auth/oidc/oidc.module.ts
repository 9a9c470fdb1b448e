import { DynamicModule, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../../config/config.schema';
import { REDIS_CLIENT } from '../../redis/redis.module';
import type { RedisClient } from '../../redis/redis-client';
import { BackchannelLogoutController } from './backchannel-logout.controller';
import { JtiReplay, MemoryJtiReplay, RedisJtiReplay } from './jti-replay';
import { LoginTransactions } from './login-transaction';
import { OidcAuthenticator } from './oidc-authenticator';
import { OidcClient } from './oidc-client.service';
import { transactionCookiePolicy } from './oidc-cookie';
import { OidcController } from './oidc.controller';
import { OidcRefresher } from './oidc-refresher';
import { OidcStrategy } from './oidc.strategy';
import { TransactionCookie } from './transaction-cookie';

/**
 * Owns OIDC sign-in (enabled by OIDC_ISSUER_URL): discovery, the passport strategy, the login
 * transaction cookie, the GET /auth/login and /auth/callback routes and the back-channel logout
 * receiver. Exports the client so logout can build the provider's end-session URL (null when
 * OIDC is off).
 */
@Module({
  providers: [
    OidcClient,
    OidcRefresher,
    {
      // Logout tokens' jti: in Redis when replicas share one, so every replica refuses a replay.
      provide: JtiReplay,
      inject: [REDIS_CLIENT],
      useFactory: (redis: RedisClient | null): JtiReplay =>
        redis ? new RedisJtiReplay(redis) : new MemoryJtiReplay(),
    },
    {
      provide: TransactionCookie,
      inject: [ConfigService, OidcClient],
      useFactory: (config: ConfigService<AppConfig, true>, client: OidcClient) => {
        const session = config.get('session', { infer: true });
        // Unused when OIDC is off; the default keeps the factory total.
        const ttlSeconds = client.settings?.transactionTtlSeconds ?? 600;
        return new TransactionCookie(
          new LoginTransactions({ secrets: session.secrets, ttlMs: ttlSeconds * 1000 }),
          transactionCookiePolicy(session, ttlSeconds),
        );
      },
    },
    {
      provide: OidcAuthenticator,
      inject: [OidcClient, TransactionCookie],
      useFactory: (client: OidcClient, transactions: TransactionCookie) =>
        new OidcAuthenticator(new OidcStrategy(client, transactions)),
    },
  ],
  exports: [OidcClient],
})
export class OidcModule {
  /** Without OIDC_ISSUER_URL, the routes do not exist: no controller is registered. */
  static forRoot(enabled: boolean): DynamicModule {
    return {
      module: OidcModule,
      controllers: enabled ? [OidcController, BackchannelLogoutController] : [],
    };
  }
}
