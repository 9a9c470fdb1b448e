import { SetMetadata, type CustomDecorator } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';

/**
 * What a Nest route declares about its protection. Every route needs a session, and every
 * state-changing one the origin and CSRF checks, unless it says otherwise here; auth/ applies
 * both (docs/architecture.md, "Modules").
 */
const PUBLIC = 'gather-bff:public';
const SKIP_ORIGIN_CHECK = 'gather-bff:skip-origin-check';

/** Reachable without a session (on a controller: each of its routes). */
export const Public = (): CustomDecorator => SetMetadata(PUBLIC, true);

/**
 * No origin or X-CSRF check: for a server-to-server route, which no browser calls and which
 * proves its caller otherwise (back-channel logout: a signed logout token).
 */
export const SkipOriginCheck = (): CustomDecorator => SetMetadata(SKIP_ORIGIN_CHECK, true);

/** A route's handler, then its controller: a declaration on either counts. */
type RouteTargets = Parameters<Reflector['getAllAndOverride']>[1];

export const isPublic = (reflector: Reflector, route: RouteTargets): boolean =>
  reflector.getAllAndOverride<boolean | undefined>(PUBLIC, route) === true;

export const skipsOriginCheck = (reflector: Reflector, route: RouteTargets): boolean =>
  reflector.getAllAndOverride<boolean | undefined>(SKIP_ORIGIN_CHECK, route) === true;
