import { CanActivate, Inject, Injectable } from '@nestjs/common';
import { BffError } from '../http/error-codes';
import { LocalCredentials } from './local-credentials.service';

/** Without a users file, `POST /auth/login` does not exist: 404 before any other check. */
@Injectable()
export class LocalLoginEnabledGuard implements CanActivate {
  constructor(@Inject(LocalCredentials) private readonly credentials: LocalCredentials) {}

  canActivate(): boolean {
    if (!this.credentials.enabled) throw new BffError('NOT_FOUND');
    return true;
  }
}
