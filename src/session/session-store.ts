import { Store } from 'express-session';

/**
 * The session store as the rest of the application sees it, and its DI token: the bounded
 * memory store by default, a shared store (Redis) when one is configured.
 */
export abstract class SessionStore extends Store {
  /** Resolves when the store answers; rejects otherwise (readiness). */
  abstract ping(): Promise<void>;
}
