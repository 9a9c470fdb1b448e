/**
 * What the keys count, owned here so keys/ depends on no metrics registry: ObservabilityModule
 * provides it with its `Metrics` (docs/architecture.md, "Floors").
 */
export abstract class KeyMetrics {
  /** A key of this fingerprint was loaded from `source` (a key source's name), at start or later. */
  abstract keyLoaded(fingerprint: string, source: string): void;

  /** A reload from `source` succeeded; `rotated`: it found a new key. */
  abstract keyReloaded(source: string, rotated: boolean): void;

  /** A reload from `source` failed. */
  abstract keyReloadFailed(source: string): void;
}
