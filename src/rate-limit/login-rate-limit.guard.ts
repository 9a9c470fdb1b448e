import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import { normalizeIp } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import type { AppConfig } from '../config/config.schema';
import { ratePolicy } from '../capacity/rate-limit-fields';
import { readJsonBody } from '../http/json-body';
import { RateLimitStore } from './rate-limit.store';
import { StoreBackedThrottlerGuard } from './store-backed-throttler.guard';
import { StoreFailurePolicy } from './store-failure.policy';

/** The client address as Express determines it (TRUST_PROXY); an IPv6 client counts by /64. */
function clientAddress(context: ExecutionContext): string {
  const req = context.switchToHttp().getRequest<Request>();
  return normalizeIp(req.ip ?? req.socket.remoteAddress ?? 'unknown');
}

/** The username being tried, lower-cased; empty when the body names none. */
async function attemptedUsername(context: ExecutionContext): Promise<string> {
  const http = context.switchToHttp();
  const body = await readJsonBody(http.getRequest<Request>(), http.getResponse<Response>());
  const username = (body as { username?: unknown } | undefined)?.username;
  return typeof username === 'string' ? username.toLowerCase() : '';
}

/** The per-address login counter: local logins and OIDC sign-ins started count together. */
const LOGIN_ADDRESS = 'login-ip';

/** How much higher the per-username limit is than the others: a safety net, not a lock. */
export const USERNAME_SAFETY_NET_FACTOR = 10;

/**
 * `POST /auth/login`, three limits counted apart (docs/contract.md, Rate limits):
 * RATE_LIMIT_LOGIN_LIMIT attempts per RATE_LIMIT_LOGIN_WINDOW_SECONDS per client address, and as
 * many per username from one address; per username from all addresses together, ten times that.
 * Guessing from one address stops at the tight limits, while someone else's failures for a
 * username never lock its owner out from another address before the safety net, which only a
 * spread-out attack reaches. The address is counted before the body is read, so malformed
 * bodies count too.
 */
@Injectable()
export class LoginRateLimitGuard extends StoreBackedThrottlerGuard {
  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(RateLimitStore) storage: RateLimitStore,
    @Inject(Reflector) reflector: Reflector,
    @Inject(StoreFailurePolicy) failure: StoreFailurePolicy,
  ) {
    const { limit, windowSeconds } = config.get('rateLimit', { infer: true }).login;
    const ttl = windowSeconds * 1000;
    super(
      {
        // Equal windows keep this order (the throttler sorts by window, stably).
        throttlers: [
          { name: LOGIN_ADDRESS, limit, ttl, getTracker: (_req, ctx) => clientAddress(ctx) },
          {
            name: 'login-user-ip',
            limit,
            ttl,
            // NUL cannot be in an address, so no two pairs share a key.
            getTracker: async (_req, ctx) =>
              `${await attemptedUsername(ctx)}\u0000${clientAddress(ctx)}`,
          },
          {
            name: 'login-user',
            limit: limit * USERNAME_SAFETY_NET_FACTOR,
            ttl,
            getTracker: (_req, ctx) => attemptedUsername(ctx),
          },
        ],
      },
      storage,
      reflector,
      failure,
      ratePolicy('login', limit, windowSeconds),
    );
  }
}

/**
 * `GET /auth/login` and `GET /auth/callback`: starting an OIDC sign-in counts against the same
 * per-address counter as `POST /auth/login` (docs/contract.md, Rate limits), so one address
 * cannot sign in without end and push everyone else's sessions out of the store.
 */
@Injectable()
export class SignInRateLimitGuard extends StoreBackedThrottlerGuard {
  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(RateLimitStore) storage: RateLimitStore,
    @Inject(Reflector) reflector: Reflector,
    @Inject(StoreFailurePolicy) failure: StoreFailurePolicy,
  ) {
    const { limit, windowSeconds } = config.get('rateLimit', { infer: true }).login;
    super(
      {
        throttlers: [
          {
            name: LOGIN_ADDRESS,
            limit,
            ttl: windowSeconds * 1000,
            getTracker: (_req, ctx) => clientAddress(ctx),
          },
        ],
      },
      storage,
      reflector,
      failure,
      ratePolicy('login', limit, windowSeconds),
    );
  }
}
