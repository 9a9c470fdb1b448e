import type { HeldKey } from '../keys/gather-keys.service';
import type { UpstreamTarget } from './path-policy';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by UpstreamPathGuard: what this request forwards to Gather. */
    gatherTarget?: UpstreamTarget;
    /** Set by RoutePolicyGuard: the key this request is forwarded with. */
    gatherKey?: HeldKey;
  }
}
