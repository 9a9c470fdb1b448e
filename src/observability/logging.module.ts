import { DynamicModule, Module } from '@nestjs/common';
import type { Writable } from 'node:stream';
import { ConfigService } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import { destination as fileDestination, type DestinationStream } from 'pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppConfig } from '../config/config.schema';
import { isRefusal, requestLogLevel } from '../http/envelope';
import { assignRequestId } from '../http/request-id';
import { loggedUrl } from './logged-url';
import { Tracing } from './tracing';
import { TracingModule } from './tracing.module';

type LoggedRequest = IncomingMessage & { session?: { user?: { id?: string } } };
type LoggedResponse = ServerResponse & { locals?: { gatherRequestId?: string } };

function outcome(req: IncomingMessage, res: ServerResponse, line: object): object {
  return {
    ...line,
    userId: (req as LoggedRequest).session?.user?.id,
    gatherRequestId: (res as LoggedResponse).locals?.gatherRequestId,
  };
}

/**
 * Log lines are written to stdout in batches of about 4 KiB, and at least every 250 ms, by the
 * event loop itself: a line per write cost a system call per request, and handing each batch to
 * libuv's thread pool cost two thread wake-ups per batch (docs/benchmarks.md, "What each change
 * bought"). Like `console.log` on a pipe, a reader that stops reading stalls the process rather
 * than letting unwritten lines grow without bound. On exit, even on an uncaught exception, the
 * batch is flushed; a process killed outright (SIGKILL, the OOM killer) loses at most 250 ms.
 */
const stdoutInBatches = (): DestinationStream => {
  const stream = fileDestination({ dest: 1, minLength: 4096, periodicFlush: 250, sync: true });
  // pino flushes at exit only the streams it writes asynchronously; this one holds a batch too.
  process.once('exit', () => {
    try {
      stream.flushSync();
    } catch {
      // stdout is already closed: there is nowhere left to write to.
    }
  });
  return stream;
};

/**
 * JSON logs on stdout, one line per request with its id, trace id, user, status, latency and
 * Gather's request id. Headers are never logged whole; the ones that carry credentials are redacted
 * wherever they might appear.
 */
@Module({})
export class LoggingModule {
  /** `destination` replaces stdout (tests read the log lines from it). */
  static forRoot(destination?: Writable): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        TracingModule,
        LoggerModule.forRootAsync({
          imports: [TracingModule],
          inject: [ConfigService, Tracing],
          useFactory: (config: ConfigService<AppConfig, true>, tracing: Tracing) => ({
            pinoHttp: {
              stream: destination ?? stdoutInBatches(),
              level: config.get('log.level', { infer: true }),
              genReqId: assignRequestId,
              // On every line of the request, from the first: the browser's trace or a new one.
              customProps: (req: IncomingMessage) => ({ traceId: tracing.traceIdOf(req) }),
              redact: {
                paths: [
                  'req.headers.cookie',
                  'req.headers.authorization',
                  'req.headers["x-api-key"]',
                  'req.headers["proxy-authorization"]',
                  'res.headers["set-cookie"]',
                  'res.headers["x-api-key"]',
                ],
                censor: '[redacted]',
              },
              serializers: {
                req: (req: { id: string; method: string; url: string }) => ({
                  id: req.id,
                  method: req.method,
                  url: loggedUrl(req.url),
                }),
                res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
              },
              // Who and which Gather request are known only at the end: added to the completion line.
              customSuccessObject: (req: IncomingMessage, res: ServerResponse, line: object) =>
                outcome(req, res, line),
              // A refusal's error is pino-http's own "failed with status code": no stack to show.
              customErrorObject: (
                req: IncomingMessage,
                res: ServerResponse,
                _err: Error,
                line: { err?: Error },
              ) => outcome(req, res, isRefusal(res) ? { ...line, err: undefined } : line),
              customErrorMessage: (_req: IncomingMessage, res: ServerResponse) =>
                isRefusal(res) ? 'request refused' : 'request errored',
              customLogLevel: (req: IncomingMessage, res: ServerResponse, err?: Error) => {
                if (err) return 'error';
                // Probes come every few seconds: Readiness logs when the answer changes.
                if (req.url?.split('?')[0] === '/readyz' && isRefusal(res)) return 'debug';
                return requestLogLevel(res);
              },
            },
          }),
        }),
      ],
    };
  }
}
