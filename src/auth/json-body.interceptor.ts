import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';
import { readJsonBody } from '../http/json-body';

/**
 * Reads the JSON body for one route. An interceptor runs after the guards, so a request the
 * origin and CSRF checks refuse is never read.
 */
@Injectable()
export class JsonBodyInterceptor implements NestInterceptor {
  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    await readJsonBody(http.getRequest<Request>(), http.getResponse<Response>());
    return next.handle();
  }
}
