import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.schema';
import { createKeySource } from './key-source.factory';
import { KeySource, KeySourceError } from './key-source';
import { fingerprint, isGatherKey } from './key-format';

/** A loaded key and the only name it goes by outside this module. */
export interface HeldKey {
  readonly value: string;
  readonly fingerprint: string;
}

/**
 * Holds the server's Gather key(s). Start-up waits for the first load and refuses to go on
 * without a usable key; the proxy asks for a key per request and never sees where it came from.
 */
@Injectable()
export class GatherKeys implements OnModuleInit {
  private readonly logger = new Logger(GatherKeys.name);
  private readonly main: KeySource;
  private current: HeldKey | undefined;

  constructor(@Inject(ConfigService) config: ConfigService<AppConfig, true>) {
    this.main = createKeySource(config.get('gather', { infer: true }).apiKey);
  }

  async onModuleInit(): Promise<void> {
    this.current = await this.read(this.main);
    this.logger.log(
      { key: this.current.fingerprint, source: this.main.description },
      'Gather key loaded',
    );
  }

  /** The key for a request; undefined while none is usable (the proxy answers 503). */
  keyFor(): HeldKey | undefined {
    return this.current;
  }

  get ready(): boolean {
    return this.current !== undefined;
  }

  private async read(source: KeySource): Promise<HeldKey> {
    const value = await source.load();
    if (!isGatherKey(value)) {
      throw new KeySourceError(
        source,
        `not a Gather API key (expected qapi_ and 16 or more of A-Z a-z 0-9 _ -); fingerprint ${fingerprint(value)}`,
      );
    }
    return { value, fingerprint: fingerprint(value) };
  }
}
