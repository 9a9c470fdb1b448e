import {
  Global,
  Module,
  RequestMethod,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { AdminRoutes } from '../http/admin-routes';
import { KeyMetrics } from '../keys/key-metrics';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { Metrics } from './metrics.service';
import { MetricsServer } from './metrics-server';
import { ReadinessMetrics } from './readiness-metrics';
import { Readiness } from '../http/readiness';

/**
 * Owns metrics (the registry, the HTTP request histogram, the readiness and Redis gauges, the
 * private `/metrics` listener, which mounts the admin routes) and provides the readiness and admin route registries of http/.
 * Global, so any module can count, register a readiness check or an admin route without
 * importing it. It imports no feature module's providers, only the narrow counting interfaces
 * those modules own (`KeyMetrics`): the arrows point down (docs/architecture.md, "Floors").
 */
@Global()
@Module({
  providers: [
    Metrics,
    { provide: KeyMetrics, useExisting: Metrics },
    MetricsServer,
    Readiness,
    ReadinessMetrics,
    AdminRoutes,
    HttpMetricsMiddleware,
  ],
  exports: [Metrics, KeyMetrics, Readiness, AdminRoutes],
})
export class ObservabilityModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // A global module's middleware is mounted before that of feature modules, so the
    // histogram also sees requests that session, CSRF or rate-limit checks end early.
    consumer.apply(HttpMetricsMiddleware).forRoutes({ path: '*', method: RequestMethod.ALL });
  }
}
