import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import { withDeadline } from '../http/deadline';
import { GatherKeys } from '../keys/gather-keys.service';
import { Metrics } from '../observability/metrics.service';
import {
  REDIS_COMMAND_TIMEOUT_MS,
  createRedisClient,
  keepConnecting,
  type RedisClient,
} from '../redis/redis-client';
import { REDIS_CLIENT } from '../redis/redis.module';
import { redisTopology } from '../redis/redis-topology';
import { upstreamThrottled } from './upstream-throttled';
import type { UpstreamWait } from './upstream-wait';

/** A key's pause: until when (`Date.now()` ms), and the status refused calls get meanwhile. */
interface Pause {
  readonly until: number;
  readonly status: number;
}

/**
 * Where pauses are kept in Redis: one key per fingerprint, all on one hash slot (the tag), so
 * one MGET reads them on a Cluster too. Only the poll reads them (once a second per replica),
 * never a request, so the slot is not a hot key.
 */
const PAUSE_KEY = (fingerprint: string): string => `{gather-pause}:${fingerprint}`;
const CHANNEL = 'gather-pause';
/** Replicas must refuse within 1 s of a pause starting: the poll is the safety net for pub/sub. */
export const PAUSE_POLL_MS = 500;

const encode = (fingerprint: string, pause: Pause): string =>
  `${fingerprint} ${pause.until} ${pause.status}`;

function decode(value: string): { fingerprint: string; pause: Pause } | undefined {
  const [fingerprint, until, status] = value.split(' ');
  const pause = { until: Number(until), status: Number(status) };
  if (!fingerprint || !Number.isFinite(pause.until) || !Number.isInteger(pause.status)) {
    return undefined;
  }
  return { fingerprint, pause };
}

/**
 * The keys Gather asked the BFF to rest (docs/capacity.md, "Pauses"). Each replica holds the
 * pauses it knows in a Map by key fingerprint, read once per proxied call with no I/O; with
 * Redis, a pause is written there (SET with PX) and announced (PUBLISH), and every replica learns
 * of it by SUBSCRIBE, or by polling every PAUSE_POLL_MS (a Cluster relies on the poll alone), and
 * reads those already running when it starts.
 */
@Injectable()
export class KeyPauses implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('GatherPause');
  private readonly paused = new Map<string, Pause>();
  private readonly subscriber: RedisClient | undefined;
  private stopSubscriber: (() => void) | undefined;
  private poller: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient | null,
    @Inject(GatherKeys) private readonly keys: GatherKeys,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {
    const topology = redisTopology(config.get('session', { infer: true }));
    // Subscribing takes a connection of its own; the Cluster client's pub/sub is left out: its
    // messages go through every node, and the poll alone meets the one second.
    if (redis && topology && topology.kind !== 'cluster') {
      this.subscriber = createRedisClient(topology, new Logger('RedisPauses'));
    }
    metrics.readPausesFrom(() => this.secondsLeft());
  }

  onApplicationBootstrap(): void {
    if (!this.redis) return;
    this.poller = setInterval(() => void this.poll(), PAUSE_POLL_MS);
    this.poller.unref();
    void this.poll();
    const subscriber = this.subscriber;
    if (!subscriber) return;
    // Subscribed again on every (re)connection; one listener, so a repeat changes nothing.
    subscriber.on('ready', () => {
      subscriber.subscribe(CHANNEL, this.onMessage).catch(() => undefined);
    });
    this.stopSubscriber = keepConnecting(subscriber);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.poller);
    this.stopSubscriber?.();
    if (this.subscriber?.isOpen) await this.subscriber.close().catch(() => undefined);
  }

  /**
   * Throws UPSTREAM_THROTTLED while the key of `fingerprint` is paused (counted per key in the
   * metrics). The proxied path's one lookup: nothing is allocated when no key is paused.
   */
  refuseIfPaused(fingerprint: string): void {
    if (this.paused.size === 0) return;
    const pause = this.paused.get(fingerprint);
    if (pause === undefined) return;
    const left = pause.until - Date.now();
    if (left <= 0) {
      this.paused.delete(fingerprint);
      return;
    }
    this.metrics.throttledCall(fingerprint);
    throw upstreamThrottled(left, pause.status);
  }

  /**
   * Step, after the allow-list chose the key and before any count (docs/contract.md, "Check
   * order"): refuses while that key is paused.
   */
  readonly refuseWhilePaused = <C extends { readonly key: { readonly fingerprint: string } }>(
    call: C,
  ): C => {
    this.refuseIfPaused(call.key.fingerprint);
    return call;
  };

  /** Whether any key may be paused now (a pause that just ended may still count). */
  get anyPaused(): boolean {
    return this.paused.size > 0;
  }

  /** When the pause of `fingerprint` ends (`Date.now()` ms), if it is paused. */
  pausedUntil(fingerprint: string): number | undefined {
    const pause = this.paused.get(fingerprint);
    return pause && pause.until > Date.now() ? pause.until : undefined;
  }

  /** Every held key with the seconds left of its pause, 0 when not paused (read at scrape time). */
  private secondsLeft(): [string, number][] {
    const now = Date.now();
    return this.keys.fingerprints().map((fingerprint) => {
      const until = this.paused.get(fingerprint)?.until ?? now;
      return [fingerprint, Math.max(0, (until - now) / 1000)];
    });
  }

  /** Gather asked to wait on an answer to a call made with the key of `fingerprint`. */
  pause(fingerprint: string, wait: UpstreamWait): void {
    const pause = { until: Date.now() + wait.seconds * 1000, status: wait.status };
    if (this.hold(fingerprint, pause)) {
      this.logger.warn(
        { key: fingerprint, status: wait.status, seconds: wait.seconds },
        'gather.throttled',
      );
    }
    if (this.redis) void this.share(this.redis, fingerprint, pause);
  }

  /** Holds `pause` unless a longer one is held; true when the key was not paused before. */
  private hold(fingerprint: string, pause: Pause): boolean {
    const held = this.paused.get(fingerprint);
    const active = held !== undefined && held.until > Date.now();
    if (!active || pause.until > held.until) this.paused.set(fingerprint, pause);
    return !active;
  }

  private async share(redis: RedisClient, fingerprint: string, pause: Pause): Promise<void> {
    const ms = pause.until - Date.now();
    if (ms <= 0) return;
    const value = encode(fingerprint, pause);
    try {
      await withDeadline(
        Promise.all([
          redis.set(PAUSE_KEY(fingerprint), value, { PX: ms }),
          redis.publish(CHANNEL, value),
        ]),
        REDIS_COMMAND_TIMEOUT_MS,
      );
    } catch (err) {
      // This replica holds the pause; the others learn of the next answer Gather refuses.
      this.logger.warn({ key: fingerprint, cause: String(err) }, 'Pause not shared with replicas');
    }
  }

  private readonly onMessage = (message: string): void => {
    const decoded = decode(message);
    if (decoded) this.hold(decoded.fingerprint, decoded.pause);
  };

  /** Reads the pauses of every key held now: at start, and every PAUSE_POLL_MS. */
  private async poll(): Promise<void> {
    const redis = this.redis;
    if (!redis?.isReady || this.polling) return;
    const fingerprints = this.keys.fingerprints();
    if (fingerprints.length === 0) return;
    this.polling = true;
    try {
      const values = await withDeadline(
        redis.mGet(fingerprints.map(PAUSE_KEY)),
        REDIS_COMMAND_TIMEOUT_MS,
      );
      for (const value of values) {
        const decoded = typeof value === 'string' ? decode(value) : undefined;
        if (decoded) this.hold(decoded.fingerprint, decoded.pause);
      }
    } catch {
      // Redis down: the pauses held here stand; the next poll tries again.
    } finally {
      this.polling = false;
    }
  }
}
