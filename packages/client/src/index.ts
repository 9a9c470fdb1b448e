export type { LoginResult, LogoutResult, Me, SessionInfo, User } from './auth-types.js';
export {
  createGatherClient,
  type CallOptions,
  type FetchLike,
  type GatherClient,
  type GatherClientOptions,
  type GatherResponse,
  type RateLimitRetry,
  type ReplayableBody,
  type RequestOptions,
  type ResponseRecord,
} from './gather-client.js';
export {
  GatherError,
  parseEnvelope,
  type BffErrorCode,
  type ClientErrorCode,
  type ErrorEnvelope,
  type GatherErrorCode,
} from './gather-error.js';
export { rateLimits, type RateLimitState } from './rate-limits.js';
export { gatherAnswer, type GatherAnswer, type GatherMeta } from './gather-answer.js';
export { signIn, signInError, signInUrl, type SignInOptions } from './sign-in.js';
