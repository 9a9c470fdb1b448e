import {
  Controller,
  HttpCode,
  Inject,
  Post,
  Req,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import type { Request } from 'express';
import { z } from 'zod';
import { BffError } from '../http/error-codes';
import { audit } from '../audit/audit';
import { Metrics } from '../observability/metrics.service';
import { SessionService } from '../session/session.service';
import { requestIdOf } from '../http/request-id';
import { Public } from '../http/route-declarations';
import { JsonBodyInterceptor } from './json-body.interceptor';
import { LocalCredentials } from './local-credentials.service';
import { publicUser, type PublicUser } from './public-user';
import { LoginRateLimitGuard } from '../rate-limit/login-rate-limit.guard';

const loginBody = z.object({ username: z.string(), password: z.string() });

/**
 * `POST /auth/login`: username and password against AUTH_LOCAL_USERS_FILE; registered only with
 * that file (AuthModule.forRoot). Origin and X-CSRF are checked ahead of the session, by
 * AuthModule's middleware.
 */
@Controller('auth')
export class LocalLoginController {
  constructor(
    @Inject(LocalCredentials) private readonly credentials: LocalCredentials,
    @Inject(SessionService) private readonly sessions: SessionService,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {}

  @Post('login')
  @Public()
  @HttpCode(200)
  @UseGuards(LoginRateLimitGuard)
  @UseInterceptors(JsonBodyInterceptor)
  async login(@Req() req: Request): Promise<{ user: PublicUser }> {
    const body = loginBody.safeParse(req.body);
    if (!body.success) {
      throw new BffError(
        'BAD_REQUEST',
        'Expected a JSON object with string "username" and "password"',
      );
    }
    const { username, password } = body.data;
    const user = await this.credentials.verify(username, password);
    if (!user) {
      this.metrics.loginFailed('local');
      // The username only when it names a user: a mistyped password is not a user id.
      const userId = this.credentials.has(username) ? username : undefined;
      audit('login.failed', { userId, requestId: requestIdOf(req), method: 'local' });
      // One answer for an unknown user and a wrong password.
      throw new BffError('INVALID_CREDENTIALS');
    }
    await this.sessions.start(req, user, 'local');
    return { user: publicUser(user) };
  }
}
