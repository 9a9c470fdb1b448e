import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { BffError } from '../http/error-codes';
import { SessionService } from '../session/session.service';
import { SessionValidity } from '../session/session-validity';
import { requestIdOf } from '../http/request-id';
import { isPublic } from '../http/route-declarations';
import type { SessionUser } from '../session/session-user';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express types are merged through this namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging needs an interface; passport's types merge into the same one
    interface User extends SessionUser {}
    interface Request {
      /** The signed-in user, set by SessionGuard. Declared as passport declares it. */
      user?: User | undefined;
    }
  }
}

/**
 * Lets a request through only with a valid session, and exposes its user as `req.user`. Global
 * (AuthModule): every Nest route but those declared `@Public()`.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(SessionService) private readonly sessions: SessionService,
    @Inject(SessionValidity) private readonly validity: SessionValidity,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (isPublic(this.reflector, [context.getHandler(), context.getClass()])) return true;
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const session = req.session;
    if (!session) throw new BffError('UNAUTHORIZED');
    const verdict = await this.validity.verdict(
      req.sessionID,
      session,
      requestIdOf(req),
      Date.now(),
    );
    if (verdict === 'none') throw new BffError('UNAUTHORIZED');
    if (verdict === 'absolute') {
      // Through express-session, which would otherwise save the session again after this answer.
      await this.sessions.end(req, http.getResponse<Response>(), 'absolute');
      throw new BffError('UNAUTHORIZED');
    }
    if (verdict === 'ended') {
      this.sessions.clearCookie(http.getResponse<Response>());
      throw new BffError('UNAUTHORIZED');
    }
    req.user = verdict;
    return true;
  }
}
