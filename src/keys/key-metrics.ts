/**
 * What the keys count, owned here so keys/ depends on no metrics registry: ObservabilityModule
 * provides it with its `Metrics` (docs/architecture.md, "Floors").
 */
export abstract class KeyMetrics {
  /** A reload from `source` (a key source's name) failed. */
  abstract keyReloadFailed(source: string): void;
}
