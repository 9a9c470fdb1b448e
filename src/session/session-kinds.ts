/** How a session started: the sign-in method. */
export type SignInMethod = 'local' | 'oidc';

/** Why a session ended (docs/contract.md, Sessions). */
export type SessionEndReason =
  | 'logout'
  | 'everywhere'
  | 'revoked'
  | 'admin'
  | 'back-channel'
  | 'provider'
  | 'superseded'
  | 'idle'
  | 'absolute';
