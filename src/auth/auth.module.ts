import {
  DynamicModule,
  Inject,
  MiddlewareConsumer,
  Module,
  NestModule,
  RequestMethod,
} from '@nestjs/common';
import {
  APP_GUARD,
  DiscoveryModule,
  DiscoveryService,
  MetadataScanner,
  Reflector,
} from '@nestjs/core';
import type { AppConfig } from '../config/config.schema';
import { declaredRoutes } from '../http/declared-routes';
import { skipsOriginCheck } from '../http/route-declarations';
import { SessionMiddleware } from '../session/session.middleware';
import { AuthController } from './auth.controller';
import { LocalCredentials } from './local-credentials.service';
import { LocalLoginController } from './local-login.controller';
import { noStore } from './no-store.middleware';
import { OidcModule } from './oidc/oidc.module';
import { RequestOriginMiddleware } from './request-origin.middleware';
import { SessionGuard } from './session.guard';

/** The methods that do not change state (RFC 9110, "Safe methods"); every other is checked. */
const SAFE_METHODS: ReadonlySet<RequestMethod> = new Set([
  RequestMethod.GET,
  RequestMethod.HEAD,
  RequestMethod.OPTIONS,
]);

/**
 * Owns signing in and out, the /auth routes with their middleware, local users, and the
 * protection of every Nest route: the session guard is global (a route opts out with
 * `@Public()`), and the origin and CSRF checks cover every state-changing route (a route opts
 * out with `@SkipOriginCheck()`; http/route-declarations.ts). A sign-in method that is off has
 * no routes at all: its controllers are not registered.
 */
@Module({})
export class AuthModule implements NestModule {
  static forRoot(auth: AppConfig['auth']): DynamicModule {
    return {
      module: AuthModule,
      imports: [DiscoveryModule, OidcModule.forRoot(auth.oidc !== undefined)],
      controllers: [
        ...(auth.localUsersFile === undefined ? [] : [LocalLoginController]),
        AuthController,
      ],
      providers: [LocalCredentials, { provide: APP_GUARD, useClass: SessionGuard }],
    };
  }

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  configure(consumer: MiddlewareConsumer): void {
    // In this order: Cache-Control on every answer, then the origin and CSRF checks, then the
    // session (docs/contract.md, "Check order"), so a refused request never touches the store.
    // Middleware rather than guards, which would run after the session is read.
    consumer.apply(noStore).forRoutes('auth');
    consumer.apply(RequestOriginMiddleware).forRoutes(...this.stateChangingRoutes());
    consumer.apply(SessionMiddleware).forRoutes('auth');
  }

  /**
   * Every route of the application's controllers whose method can change state, but those
   * declared `@SkipOriginCheck()` (`POST /auth/backchannel-logout`, server to server).
   */
  private stateChangingRoutes(): Array<{ path: string; method: RequestMethod }> {
    return declaredRoutes(this.discovery, this.scanner, this.reflector)
      .filter(
        (route) =>
          !SAFE_METHODS.has(route.method) &&
          !skipsOriginCheck(this.reflector, [route.handler, route.controller]),
      )
      .map(({ path, method }) => ({ path, method }));
  }
}
