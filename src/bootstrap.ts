import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppOptions } from './app.module';
import type { AppConfig } from './config/config.schema';
import { ProxyPipeline } from './gather/proxy-pipeline';
import { PROXY_PREFIX } from './gather/path-policy';
import { installServerErrorHooks, limitHeaderTime, routeAheadOfExpress } from './http/server-hooks';

/**
 * Builds the application for a validated configuration: the one factory behind `main.ts`,
 * the demo and every end-to-end test, so all three run the same thing.
 */
export async function createApp(
  config: AppConfig,
  options: AppOptions = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options), {
    // Bodies are read only where a route needs them: the proxy streams, login parses JSON.
    bodyParser: false,
    bufferLogs: true,
    // Start-up failures reject to the caller (main prints one clean message) instead of exiting here.
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.set('trust proxy', config.server.trustProxy);
  app.use(helmet());
  app.enableShutdownHooks();
  const server = app.getHttpServer();
  installServerErrorHooks(server);
  limitHeaderTime(server);
  const pipeline = app.get(ProxyPipeline);
  routeAheadOfExpress(server, `${PROXY_PREFIX}/`, (req, res) => pipeline.handle(req, res));
  return app;
}

/** Creates the application and listens on the configured public address. */
export async function startApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await createApp(config);
  await app.listen(config.server.port, config.server.host);
  return app;
}
