import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { json, type Request, type Response } from 'express';
import type { Observable } from 'rxjs';
import { BffError } from '../http/error-codes';

/** Errors of Express's body parser carry the status they mean. */
interface ParserError {
  status?: number;
}

const parseJson = json({ limit: '10kb' });

/**
 * Reads a small JSON body into `req.body` for one route (bodies are not parsed globally). An
 * interceptor runs after the guards, so a request the origin and CSRF checks refuse is never read.
 */
@Injectable()
export class JsonBodyInterceptor implements NestInterceptor {
  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    await new Promise<void>((resolve, reject) => {
      parseJson(http.getRequest<Request>(), http.getResponse<Response>(), (err?: unknown) => {
        if (!err) resolve();
        else if ((err as ParserError).status === 413) reject(new BffError('PAYLOAD_TOO_LARGE'));
        else reject(new BffError('BAD_REQUEST', 'Request body is not valid JSON'));
      });
    });
    return next.handle();
  }
}
