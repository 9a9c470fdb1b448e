import { CanActivate, Inject, Injectable } from '@nestjs/common';
import { BffError } from '../../http/error-codes';
import { OidcClient } from './oidc-client.service';

/** Without OIDC_ISSUER_URL, `GET /auth/login` and `/auth/callback` do not exist: 404. */
@Injectable()
export class OidcEnabledGuard implements CanActivate {
  constructor(@Inject(OidcClient) private readonly client: OidcClient) {}

  canActivate(): boolean {
    if (!this.client.enabled) throw new BffError('NOT_FOUND');
    return true;
  }
}
