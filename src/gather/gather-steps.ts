import { checkRequestOrigin } from '../auth/request-origin';
import { BffError } from '../http/error-codes';
import type { GatherKeys } from '../keys/gather-keys.service';
import type { RouteMatcher } from './allow-list';
import { assertForwardedMethod, upstreamTarget } from './path-policy';
import type { AllowedCall, ProxyCall, SignedInCall, TargetedCall } from './proxy-call';

/**
 * The proxied path's own steps (docs/contract.md, "Check order"), each built once at start-up
 * from what it needs. The session, rate-limit and body steps come from their modules.
 */

/** 405 for a method the proxy does not forward. */
export const refuseUnforwardedMethod = <C extends ProxyCall>(call: C): C => {
  assertForwardedMethod(call.req.method ?? '');
  return call;
};

/** 400 for a path that is not safe to forward; else its target, and whether it is listed. */
export function checkTarget(
  allowList: RouteMatcher,
): <C extends ProxyCall>(call: C) => C & Pick<TargetedCall, 'target' | 'listed'> {
  return (call) => {
    const target = upstreamTarget(call.url);
    const listed = allowList.matches(call.req.method ?? '', target.path);
    return Object.assign(call, { target, listed });
  };
}

/** 403 for a foreign origin or a missing `X-CSRF`. */
export function refuseForeignOrigin(
  allowedOrigins: ReadonlySet<string>,
): <C extends ProxyCall>(call: C) => C {
  return (call) => {
    checkRequestOrigin(call.req.headers, allowedOrigins);
    return call;
  };
}

/** 403 for a route the allow-list does not list; else the key it goes to Gather with. */
export function allowedKey(
  keys: GatherKeys,
): <C extends SignedInCall>(call: C) => C & Pick<AllowedCall, 'key'> {
  return (call) => {
    const method = call.req.method ?? '';
    if (!call.listed) {
      throw new BffError('ROUTE_NOT_ALLOWED', `${method} ${call.target.path} is not allowed`);
    }
    return Object.assign(call, { key: keys.keyFor({ method, team: call.user.team }) });
  };
}
