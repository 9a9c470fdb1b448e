import {
  Global,
  Module,
  RequestMethod,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { Metrics } from './metrics.service';
import { MetricsServer } from './metrics-server';
import { Readiness } from './readiness';

/**
 * Owns metrics (the registry, the HTTP request histogram, the private `/metrics` listener) and
 * the readiness registry. Global, so any module can count into `Metrics` or register a
 * readiness check without importing it; it imports no feature module, so none of them cycles.
 */
@Global()
@Module({
  providers: [Metrics, MetricsServer, Readiness, HttpMetricsMiddleware],
  exports: [Metrics, Readiness],
})
export class ObservabilityModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // A global module's middleware is mounted before that of feature modules, so the
    // histogram also sees requests that session, CSRF or rate-limit checks end early.
    consumer.apply(HttpMetricsMiddleware).forRoutes({ path: '*', method: RequestMethod.ALL });
  }
}
