import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppOptions } from './app.module';
import type { AppConfig } from './config/config.schema';
import { ProxyPipeline } from './gather/proxy-pipeline';
import { PROXY_PREFIX } from './gather/path-policy';
import { installServerErrorHooks, limitHeaderTime, routeAheadOfExpress } from './http/server-hooks';
import { ServerDrain } from './http/server-drain';
import { Readiness } from './http/readiness';

const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** Once drained, closing the Gather pool, the stores and the metrics listener gets this long. */
export const CLOSE_DEADLINE_MS = 2000;

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
  const server = app.getHttpServer();
  installServerErrorHooks(server);
  limitHeaderTime(server);
  const pipeline = app.get(ProxyPipeline);
  routeAheadOfExpress(server, `${PROXY_PREFIX}/`, (req, res) => pipeline.handle(req, res));
  drainOnSignals(app, new ServerDrain(server), config.server.shutdownGraceSeconds * 1000);
  return app;
}

/**
 * SIGTERM or SIGINT (docs/contract.md, "Shutdown"): `/readyz` answers 503 at once, the public
 * listener drains for at most `graceMs`, then the application closes (its `onModuleDestroy` and
 * `onApplicationShutdown` hooks: the Gather pool and the stores last) and the process exits 0.
 * Nest's own signal handling is not used: it closes the modules before the server has drained
 * and ends the process by re-raising the signal (exit status 143).
 */
function drainOnSignals(app: NestExpressApplication, drain: ServerDrain, graceMs: number): void {
  const logger = new NestLogger('Shutdown');
  let begun = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    // npm and the terminal may both deliver one Ctrl+C: the drain under way is the answer to both.
    if (begun) return;
    begun = true;
    app.get(Readiness).markShuttingDown();
    logger.log({ signal, graceSeconds: graceMs / 1000 }, 'shutting down: draining requests');
    void drain.drain(graceMs).then(async (outcome) => {
      logger.log(
        { outcome },
        outcome === 'idle' ? 'drained' : 'grace over: cut the requests still open',
      );
      // A store that does not close must not keep the process past its deadline.
      setTimeout(() => process.exit(0), CLOSE_DEADLINE_MS).unref();
      try {
        await app.close();
      } catch (err) {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      }
      process.exit(0);
    });
  };
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);
  // An application closed otherwise (tests, the demo's own close) stops listening for signals.
  app.getHttpServer().once('close', () => {
    if (!begun) for (const signal of SHUTDOWN_SIGNALS) process.off(signal, onSignal);
  });
}

/** Creates the application and listens on the configured public address. */
export async function startApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await createApp(config);
  await app.listen(config.server.port, config.server.host);
  return app;
}
