import {
  Global,
  Module,
  RequestMethod,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { AdminRoutes } from '../http/admin-routes';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { Metrics } from './metrics.service';
import { MetricsServer } from './metrics-server';
import { Readiness } from './readiness';

/**
 * Owns metrics (the registry, the HTTP request histogram, the private `/metrics` listener, which
 * mounts the admin routes), the readiness registry and the admin route registry. Global, so any module can count into `Metrics`, register a
 * readiness check or an admin route without importing it; it imports no feature module, so none of them cycles.
 */
@Global()
@Module({
  providers: [Metrics, MetricsServer, Readiness, AdminRoutes, HttpMetricsMiddleware],
  exports: [Metrics, Readiness, AdminRoutes],
})
export class ObservabilityModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // A global module's middleware is mounted before that of feature modules, so the
    // histogram also sees requests that session, CSRF or rate-limit checks end early.
    consumer.apply(HttpMetricsMiddleware).forRoutes({ path: '*', method: RequestMethod.ALL });
  }
}
