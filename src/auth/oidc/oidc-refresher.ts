import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import * as oidc from 'openid-client';
import {
  ProviderRecheck,
  type ProviderRefresher,
  type RefreshOutcome,
} from '../../session/provider-recheck';
import { OidcClient } from './oidc-client.service';
import { describeProviderError } from './provider-errors';

/**
 * The provider re-check's refresh (session/provider-recheck.ts): a refresh_token grant at the
 * provider. Only `invalid_grant` means the user or grant is gone; anything else (no answer, a 5xx,
 * another error) says nothing about the user and leaves the session alone.
 */
@Injectable()
export class OidcRefresher implements ProviderRefresher, OnModuleInit {
  constructor(
    @Inject(OidcClient) private readonly client: OidcClient,
    @Inject(ProviderRecheck) private readonly recheck: ProviderRecheck,
  ) {}

  onModuleInit(): void {
    if (this.client.enabled) this.recheck.use(this);
  }

  async refresh(refreshToken: string): Promise<RefreshOutcome> {
    try {
      const config = await this.client.configuration();
      const tokens = await oidc.refreshTokenGrant(config, refreshToken);
      return tokens.refresh_token
        ? { kind: 'valid', refreshToken: tokens.refresh_token }
        : { kind: 'valid' };
    } catch (err) {
      if (err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant') {
        return { kind: 'refused' };
      }
      return { kind: 'unreachable', reason: describeProviderError(err) };
    }
  }
}
