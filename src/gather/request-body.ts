import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BODY_IDLE_MS,
  BODY_MIN_BYTES_PER_SECOND,
  BODY_RATE_GRACE_MS,
  watchBodyIdle,
} from '../http/body-idle';
import { BffError } from '../http/error-codes';
import { rateLimited } from '../rate-limit/rate-limited';

/** A user over their share is told to try again once their slowest upload has had to move on. */
const SHARE_RETRY_AFTER_SECONDS = 10;

/**
 * What buffered request bodies may hold: all together (`maxBytes`), and one user's together
 * (`maxPerUser`), so one user's uploads in progress never leave the others no room
 * (docs/contract.md, "Uploads"). Bodies are reserved when they start (their declared length) or
 * as they grow (chunked), and released when their exchange ends.
 */
export class BodyBudget {
  private held = 0;
  /** Only users holding something: an entry goes when its last upload ends. */
  private readonly heldBy = new Map<string, number>();

  constructor(
    private readonly maxBytes: number,
    private readonly maxPerUser: number,
  ) {}

  /** Undefined when reserved; else why not: 429 past the user's share, 503 when all is held. */
  reserve(user: string, bytes: number): BffError | undefined {
    const mine = this.heldBy.get(user) ?? 0;
    if (mine + bytes > this.maxPerUser) return rateLimited(SHARE_RETRY_AFTER_SECONDS);
    if (this.held + bytes > this.maxBytes) {
      return new BffError('SERVICE_UNAVAILABLE', 'Too many uploads in progress');
    }
    this.held += bytes;
    this.heldBy.set(user, mine + bytes);
    return undefined;
  }

  release(user: string, bytes: number): void {
    if (bytes === 0) return;
    this.held -= bytes;
    const left = (this.heldBy.get(user) ?? 0) - bytes;
    if (left > 0) this.heldBy.set(user, left);
    else this.heldBy.delete(user);
  }
}

export interface BodyLimits {
  /** One body's limit (PROXY_MAX_BODY_BYTES). */
  readonly maxBytes: number;
  /** Longest silence inside a body before 408. */
  readonly idleMs: number;
  /** Slowest average rate a body may keep once it has been open `rateGraceMs`, before 408. */
  readonly minBytesPerSecond: number;
  readonly rateGraceMs: number;
  readonly budget: BodyBudget;
}

/**
 * Reads the request body of `user`'s request into memory. Buffered rather than streamed so that
 * a request refused by Gather's 401 can be replayed once with a reloaded key, and an oversized
 * body is refused before Gather sees any of it. Written by hand because neither raw-body nor Node
 * bounds the silence inside a body, its rate, or the memory of all bodies together
 * (docs/contract.md, "Uploads"). Undefined, not a promise, for a request that declares no body
 * (most calls: nothing to wait for); the reservation is released when `res` closes.
 */
export function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  limits: BodyLimits,
  user: string,
): Promise<Buffer> | undefined {
  const declared = req.headers['content-length'];
  if (declared === undefined && req.headers['transfer-encoding'] === undefined) return undefined;
  const length = declared === undefined ? undefined : Number(declared);
  if (length !== undefined && length > limits.maxBytes) {
    return Promise.reject(new BffError('PAYLOAD_TOO_LARGE'));
  }
  let reserved = 0;
  const reserve = (bytes: number): BffError | undefined => {
    const refused = limits.budget.reserve(user, bytes);
    if (refused === undefined) reserved += bytes;
    return refused;
  };
  res.once('close', () => limits.budget.release(user, reserved));
  const refused = length === undefined ? undefined : reserve(length);
  if (refused) return Promise.reject(refused);
  const openedAt = Date.now();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: BffError | undefined): void => {
      stopIdle();
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onBroken);
      req.off('close', onBroken);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limits.maxBytes) return finish(new BffError('PAYLOAD_TOO_LARGE'));
      const grown = length === undefined ? reserve(chunk.length) : undefined;
      if (grown) return finish(grown);
      // A trickle that never pauses long enough for the idle rule would hold its reservation
      // for as long as it likes.
      const openMs = Date.now() - openedAt;
      if (openMs > limits.rateGraceMs && size * 1000 < limits.minBytesPerSecond * openMs) {
        return finish(new BffError('REQUEST_TIMEOUT'));
      }
      chunks.push(chunk);
    };
    const onEnd = (): void =>
      finish(
        length !== undefined && size !== length
          ? new BffError('BAD_REQUEST', 'Request body could not be read')
          : undefined,
      );
    const onBroken = (): void =>
      finish(new BffError('BAD_REQUEST', 'Request body could not be read'));
    const stopIdle = watchBodyIdle(req, limits.idleMs, finish);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onBroken);
    req.on('close', onBroken);
  });
}

/** A signed-in request whose body is still to be read. */
interface BodyRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Whose share of the body budget its upload counts against (docs/architecture.md). */
  readonly user: { readonly principal: string };
}

const NO_BODY = { body: undefined } as const;

/** The body limits of the proxied path, from its settings (docs/configuration.md, "Proxy"). */
export function bodyLimits(proxy: {
  readonly maxBodyBytes: number;
  readonly maxBufferedBytes: number;
  readonly maxBufferedBytesPerUser?: number | undefined;
}): BodyLimits {
  const { maxBodyBytes, maxBufferedBytes, maxBufferedBytesPerUser } = proxy;
  return {
    maxBytes: maxBodyBytes,
    idleMs: BODY_IDLE_MS,
    minBytesPerSecond: BODY_MIN_BYTES_PER_SECOND,
    rateGraceMs: BODY_RATE_GRACE_MS,
    // By default an eighth of the whole, and room for at least one body of the largest size.
    budget: new BodyBudget(
      maxBufferedBytes,
      maxBufferedBytesPerUser ?? Math.max(maxBodyBytes, Math.floor(maxBufferedBytes / 8)),
    ),
  };
}

/** Step: the request's body read whole within `limits`, if it has one. */
export function readBodyStep(
  limits: BodyLimits,
): <C extends BodyRequest>(
  call: C,
) => (C & { readonly body: Buffer | undefined }) | Promise<C & { readonly body: Buffer }> {
  return (call) => {
    const pending = readBody(call.req, call.res, limits, call.user.principal);
    if (pending === undefined) return Object.assign(call, NO_BODY);
    return pending.then((body) => Object.assign(call, { body }));
  };
}
