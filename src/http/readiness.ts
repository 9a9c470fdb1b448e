import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  type FactoryProvider,
  type InjectionToken,
} from '@nestjs/common';
import { withDeadline } from '../http/deadline';

/** Rejects when its component is not ready to serve. */
export type ReadinessCheck = () => Promise<void>;

/** Longest wait for one check: a store that hangs must not hang the probe. */
export const CHECK_TIMEOUT_MS = 1000;

/**
 * The readiness checks of every module (key loaded, session store and rate-limit store
 * answering), run in parallel with a deadline each, and whether shutdown has begun.
 */
@Injectable()
export class Readiness implements BeforeApplicationShutdown {
  private readonly logger = new Logger(Readiness.name);
  private readonly checks = new Map<string, ReadinessCheck>();
  /** The checks that failed last time: the state is logged when it changes, not on every probe. */
  private failedBefore: readonly string[] = [];
  private stopping = false;

  /** `name` is what `/readyz` reports when the check fails: a component, never a host. */
  register(name: string, check: ReadinessCheck): void {
    if (this.checks.has(name)) throw new Error(`readiness check "${name}" is already registered`);
    this.checks.set(name, check);
  }

  /** The names of every registered check, in registration order. */
  names(): string[] {
    return [...this.checks.keys()];
  }

  /** The names of the checks that fail now, in registration order; empty when ready. */
  async failing(): Promise<string[]> {
    const entries = [...this.checks];
    const results = await Promise.allSettled(
      // Called inside a promise so a check that throws synchronously counts as failing.
      entries.map(([, check]) => withDeadline(Promise.resolve().then(check), CHECK_TIMEOUT_MS)),
    );
    const failing: string[] = [];
    const reasons: Record<string, string> = {};
    results.forEach((result, i) => {
      const name = (entries[i] as [string, ReadinessCheck])[0];
      if (result.status === 'fulfilled') return;
      failing.push(name);
      reasons[name] = result.reason instanceof Error ? result.reason.message : 'rejected';
    });
    if (failing.join() !== this.failedBefore.join()) {
      if (failing.length > 0) this.logger.warn({ failing, reasons }, 'not ready');
      else this.logger.log({ wasFailing: this.failedBefore }, 'ready again');
      this.failedBefore = failing;
    }
    return failing;
  }

  /** Once shutdown begins the instance reports not ready, so traffic drains away from it. */
  get shuttingDown(): boolean {
    return this.stopping;
  }

  /** From the shutdown signal on, before anything closes (docs/contract.md, "Shutdown"). */
  markShuttingDown(): void {
    this.stopping = true;
  }

  beforeApplicationShutdown(): void {
    this.markShuttingDown();
  }
}

/**
 * A module's readiness check, as one of its providers: once `source` exists, `check(source)` is
 * registered under `name` (what `/readyz` reports when it fails). Without a `Readiness` in the
 * application (a module under test alone) nothing is registered.
 */
export function readinessCheck<T>(
  name: string,
  source: InjectionToken<T>,
  check: (source: T) => Promise<void>,
): FactoryProvider<string> {
  return {
    provide: `readiness:${name}`,
    inject: [source, { token: Readiness, optional: true }],
    useFactory: (from: T, readiness: Readiness | undefined): string => {
      readiness?.register(name, () => check(from));
      return name;
    },
  };
}
