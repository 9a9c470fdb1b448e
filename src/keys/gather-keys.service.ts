import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import { withDeadline } from '../http/deadline';
import { BffError } from '../http/error-codes';
import { audit } from '../audit/audit';
import { KeyMetrics } from './key-metrics';
import { fingerprint, isGatherKey, looksLikeExampleKey } from '../config/key-format';
import { KeySourceFactory } from './key-source.factory';
import { KeyLoadError, KeySource, KeySourceError } from './key-source';

/** A loaded key and the only name it goes by outside this module. */
export interface HeldKey {
  readonly value: string;
  readonly fingerprint: string;
}

/** Longest wait for one read of a source, at start-up and on every reload. */
export const KEY_READ_DEADLINE_MS = 10_000;

/** What GET /admin/keys says of one key: never its value. */
export interface KeyView {
  readonly fingerprint: string;
  /** `main`, `readonly` or `team:<team>`. */
  readonly use: string;
  readonly source: 'env' | 'file' | 'aws-sm' | 'vault';
  /** When the value held now was read. */
  readonly loadedAt: Date;
}

/** One configured key: where it comes from, the last good value, the read in progress. */
interface Slot {
  readonly source: KeySource;
  readonly use: string;
  readonly kind: KeyView['source'];
  current: HeldKey | undefined;
  loadedAt?: Date;
  reading: Promise<void> | undefined;
}

/**
 * Holds the server's Gather keys: the main key, the optional read-only key and the team keys.
 * Start-up waits for the first load of every one and refuses to go on without all of them;
 * file and secret-manager keys are then re-read on a timer and after Gather refuses one. A
 * failed re-read keeps the last good key. The proxy asks for a key per request and never sees
 * where it came from.
 */
/** The request whose 401 made a key be read again, for the audit line. */
export interface ReloadCause {
  readonly requestId: string;
  readonly userId?: string;
}

@Injectable()
export class GatherKeys implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(GatherKeys.name);
  private readonly main: Slot;
  private readonly readonly: Slot | undefined;
  private readonly teams: ReadonlyMap<string, Slot>;
  private readonly requireTeamKey: boolean;
  private readonly refreshMs: number;
  private readonly production: boolean;
  /** Every key handed out, to the slot it came from, so a refused key finds its source. */
  private readonly issuedBy = new WeakMap<HeldKey, Slot>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(ConfigService) config: ConfigService<AppConfig, true>,
    @Inject(KeySourceFactory) sources: KeySourceFactory,
    @Inject(KeyMetrics) private readonly metrics: KeyMetrics,
  ) {
    const gather = config.get('gather', { infer: true });
    const slot = (c: typeof gather.apiKey, use: string): Slot => ({
      source: sources.create(c),
      use,
      kind: c.kind === 'value' ? 'env' : c.kind === 'file' ? 'file' : c.secret.kind,
      current: undefined,
      reading: undefined,
    });
    this.main = slot(gather.apiKey, 'main');
    this.readonly = gather.readonlyApiKey ? slot(gather.readonlyApiKey, 'readonly') : undefined;
    // A Map, not the parsed object: a team named `constructor` must not find a prototype member.
    this.teams = new Map(
      Object.entries(gather.teamKeys).map(([team, c]) => [team, slot(c, `team:${team}`)]),
    );
    this.requireTeamKey = gather.requireTeamKey;
    // setInterval takes at most 2^31-1 ms (~24 days); a longer delay would fire at once, forever.
    this.refreshMs = Math.min(gather.keyRefreshSeconds * 1000, 2 ** 31 - 1);
    this.production = config.get('appEnv', { infer: true }) === 'production';
  }

  async onModuleInit(): Promise<void> {
    const slots = this.slots();
    const failures = await Promise.all(
      slots.map(async (slot) => {
        const error = await this.read(slot);
        return error ? [error.message] : [];
      }),
    );
    if (failures.flat().length > 0) throw new KeyLoadError(failures.flat());
    for (const slot of slots) {
      this.logger.log(
        { key: slot.current?.fingerprint, source: slot.source.description },
        'Gather key loaded',
      );
    }
    this.startRefreshTimer(slots.filter((s) => s.source.reloadable));
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(this.slots().flatMap((s) => (s.reading ? [s.reading] : [])));
  }

  /**
   * The key for one request; synchronous and without I/O (the hot path). A user of a mapped
   * team always gets the team's key, GET and HEAD included: a team's key is its own scope at
   * Gather, and a team need not have a read-only key of its own. Otherwise GET and HEAD use the
   * read-only key when one is configured, and everything else the main key.
   */
  keyFor(req: { method: string; team?: string }): HeldKey {
    const team = req.team === undefined ? undefined : this.teams.get(req.team);
    if (team) return usable(team);
    if (this.requireTeamKey) throw new BffError('ROUTE_NOT_ALLOWED', 'No Gather key for your team');
    if (this.readonly && (req.method === 'GET' || req.method === 'HEAD')) {
      return usable(this.readonly);
    }
    return usable(this.main);
  }

  /** The fingerprints of every key held now (a pause is kept per fingerprint). */
  fingerprints(): string[] {
    return this.slots().flatMap((slot) => (slot.current ? [slot.current.fingerprint] : []));
  }

  /**
   * Gather answered 401 to `rejected`: re-read its source (one read shared by every caller
   * meanwhile) and resolve the new key if it differs, else undefined. A key already replaced
   * since the request started resolves to its replacement without another read. `cause` names
   * the request on the audit line of a rotation it finds.
   */
  async reloadAfterRejection(rejected: HeldKey, cause: ReloadCause): Promise<HeldKey | undefined> {
    const slot = this.issuedBy.get(rejected);
    if (!slot || !slot.source.reloadable) return undefined;
    if (slot.current && slot.current.value !== rejected.value) return slot.current;
    await this.reload(slot, cause);
    return slot.current && slot.current.value !== rejected.value ? slot.current : undefined;
  }

  /** A usable main key is held. */
  get ready(): boolean {
    return this.main.current !== undefined;
  }

  /** Every key held, by fingerprint, use and source (GET /admin/keys). */
  views(): KeyView[] {
    return this.slots().flatMap((slot) =>
      slot.current === undefined || slot.loadedAt === undefined
        ? []
        : [
            {
              fingerprint: slot.current.fingerprint,
              use: slot.use,
              source: slot.kind,
              loadedAt: slot.loadedAt,
            },
          ],
    );
  }

  private slots(): Slot[] {
    return [this.main, ...(this.readonly ? [this.readonly] : []), ...this.teams.values()];
  }

  private startRefreshTimer(reloadable: Slot[]): void {
    if (reloadable.length === 0) return;
    this.timer = setInterval(() => {
      for (const slot of reloadable) void this.reload(slot);
    }, this.refreshMs);
    // Off the request path and never what keeps the process alive.
    this.timer.unref();
  }

  /** A re-read after start-up: at most one per slot at a time; a failure keeps the last key. */
  private reload(slot: Slot, cause?: ReloadCause): Promise<void> {
    slot.reading ??= (async () => {
      const previous = slot.current;
      const error = await this.read(slot);
      if (error) {
        this.logger.warn(
          { key: previous?.fingerprint, source: slot.source.description, cause: error.message },
          'Gather key reload failed; keeping the last good key',
        );
        this.metrics.keyReloadFailed(slot.source.name);
        return;
      }
      this.metrics.keyReloaded(slot.source.name, slot.current !== previous);
      if (slot.current !== previous) {
        audit('key.rotated', {
          key: slot.current?.fingerprint,
          previousKey: previous?.fingerprint,
          source: slot.source.name,
          ...cause,
        });
      }
    })().finally(() => (slot.reading = undefined));
    return slot.reading;
  }

  /** Reads and checks the source; a new value replaces the held key, the same one keeps it. */
  private async read(slot: Slot): Promise<KeySourceError | undefined> {
    let value: string;
    try {
      // A hung source must not hang start-up or a reload.
      value = await withDeadline(
        slot.source.load(),
        KEY_READ_DEADLINE_MS,
        () => new KeySourceError(slot.source, `no answer within ${KEY_READ_DEADLINE_MS / 1000} s`),
      );
    } catch (err) {
      // Sources report their failures as KeySourceError; anything else is named, never shown.
      if (err instanceof KeySourceError) return err;
      return new KeySourceError(slot.source, `unexpected failure (${(err as Error)?.name})`);
    }
    // An empty file or secret is said as such: a fingerprint of nothing would only puzzle.
    if (value === '') return new KeySourceError(slot.source, 'is empty');
    const problem = !isGatherKey(value)
      ? 'not a Gather API key (expected qapi_ and 16 or more of A-Z a-z 0-9 _ -)'
      : this.production && looksLikeExampleKey(value)
        ? 'looks like an example key, refused when APP_ENV=production'
        : undefined;
    if (problem)
      return new KeySourceError(slot.source, `${problem}; fingerprint ${fingerprint(value)}`);
    if (slot.current?.value !== value) {
      const key: HeldKey = { value, fingerprint: fingerprint(value) };
      this.issuedBy.set(key, slot);
      slot.current = key;
      slot.loadedAt = new Date();
      this.metrics.keyLoaded(key.fingerprint, slot.source.name);
    }
    return undefined;
  }
}

function usable(slot: Slot): HeldKey {
  if (slot.current === undefined) throw new BffError('SERVICE_UNAVAILABLE');
  return slot.current;
}
