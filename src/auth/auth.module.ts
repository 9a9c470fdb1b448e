import { Inject, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { SessionMiddleware } from '../session/session.middleware';
import { AuthController } from './auth.controller';
import { LocalCredentials } from './local-credentials.service';
import { LocalLoginController } from './local-login.controller';
import { noStore } from './no-store.middleware';
import { OidcModule } from './oidc/oidc.module';
import { RequestOriginMiddleware } from './request-origin.middleware';

/**
 * Owns signing in and out: the /auth routes with their middleware and guards, and local users.
 */
@Module({
  imports: [OidcModule],
  controllers: [LocalLoginController, AuthController],
  providers: [LocalCredentials],
})
export class AuthModule implements NestModule {
  constructor(@Inject(LocalCredentials) private readonly credentials: LocalCredentials) {}

  configure(consumer: MiddlewareConsumer): void {
    // In this order: Cache-Control on every answer, then the origin and CSRF checks, then the
    // session (docs/contract.md, "Check order"), so a refused request never touches the store.
    consumer.apply(noStore).forRoutes('auth');
    consumer.apply(RequestOriginMiddleware).forRoutes(...this.stateChangingRoutes());
    consumer.apply(SessionMiddleware).forRoutes('auth');
  }

  /**
   * The routes with origin and CSRF checks. Not `POST /auth/backchannel-logout` (server to
   * server), nor `POST /auth/login` without a users file: that one is a 404 before any check.
   */
  private stateChangingRoutes(): Array<{ path: string; method: RequestMethod }> {
    const routes = [
      { path: 'auth/logout', method: RequestMethod.POST },
      { path: 'auth/sessions/:id', method: RequestMethod.DELETE },
    ];
    if (this.credentials.enabled) routes.push({ path: 'auth/login', method: RequestMethod.POST });
    return routes;
  }
}
