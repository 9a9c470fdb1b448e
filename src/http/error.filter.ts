import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { BffError, type ErrorCode } from './error-codes';
import { sendError } from './envelope';
import { assignRequestId } from './request-id';

/** Statuses that Nest or Express raise themselves, mapped to our codes. */
const BY_STATUS: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/** Errors from body parsers and other Express middleware carry `status` and `type`. */
interface HttpishError {
  status?: unknown;
  statusCode?: unknown;
  type?: unknown;
}

/**
 * The one exit for every error: whatever was thrown leaves as Gather's envelope with
 * `X-Request-Id`, and nothing of its internals (stack, host names) reaches the browser.
 */
@Catch()
export class ErrorEnvelopeFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorEnvelopeFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request>();
    const res = ctx.getResponse<Response>();
    const err = this.toBffError(exception);
    if (err.status >= 500 && !(exception instanceof BffError)) {
      this.logger.error(
        { err: exception, requestId: assignRequestId(req, res) },
        'unhandled error',
      );
    }
    sendError(res, assignRequestId(req, res), err);
  }

  private toBffError(exception: unknown): BffError {
    if (exception instanceof BffError) return exception;
    const status =
      exception instanceof HttpException
        ? exception.getStatus()
        : Number((exception as HttpishError)?.status ?? (exception as HttpishError)?.statusCode);
    const code = BY_STATUS[status];
    if (code === 'BAD_REQUEST' && (exception as HttpishError)?.type === 'entity.parse.failed') {
      return new BffError('BAD_REQUEST', 'Request body is not valid JSON');
    }
    return new BffError(code ?? 'INTERNAL_ERROR');
  }
}
