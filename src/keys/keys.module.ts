import { Module } from '@nestjs/common';
import { GatherKeys } from './gather-keys.service';
import { keyReadiness } from './key-readiness';
import { KeySourceFactory } from './key-source.factory';

/**
 * Owns the server-held Gather keys: their sources (environment, file, AWS Secrets Manager,
 * Vault), validation, fingerprints, periodic reloads, the reload after Gather refuses one, and
 * the `gather-key` readiness check.
 */
@Module({ providers: [KeySourceFactory, GatherKeys, keyReadiness], exports: [GatherKeys] })
export class KeysModule {}
