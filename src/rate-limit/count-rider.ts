import type { RateLimitItems } from '../capacity/rate-limit-fields';
import type { Principal } from '../session/principal';
import type { CapCount, CapsTally } from './rate-limit.store';

/** The caps of one call, and how to read what counting them gave. */
export interface Ride {
  readonly caps: readonly CapCount[];
  /** Puts the caps' state in the call's `RateLimit` items; throws the refusal of a used-up cap. */
  settle(into: RateLimitItems, tally: CapsTally): void;
}

/**
 * Counters that ride in a proxied call's rate-limit count, in the same store step (one round
 * trip with Redis), counted only when every limit passed: the quotas. Provided by a module
 * above this one (quota/), so the counting step stays here without knowing what a quota is.
 */
export abstract class CountRider {
  /** The caps a call of `principal` (in `team`, if any) counts in now; undefined: none. */
  abstract rideOf(principal: Principal, team: string | undefined): Ride | undefined;
}
