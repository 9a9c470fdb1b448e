import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { AuthController } from './auth.controller';
import { LocalCredentials } from './local-credentials.service';
import { LocalLoginController } from './local-login.controller';
import { noStore } from './no-store.middleware';
import { OidcModule } from './oidc/oidc.module';

/**
 * Owns signing in and out: the /auth routes, local users, and the guards other modules put
 * on their routes (RequestOriginGuard for origin + CSRF, SessionGuard for a valid session).
 */
@Module({
  imports: [OidcModule],
  controllers: [LocalLoginController, AuthController],
  providers: [LocalCredentials],
})
export class AuthModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(noStore).forRoutes('auth');
  }
}
