import { Module } from '@nestjs/common';
import { GatherKeys } from './gather-keys.service';
import { KeySourceFactory } from './key-source.factory';

/**
 * Owns the server-held Gather keys: their sources (environment, file, AWS Secrets Manager,
 * Vault), validation, fingerprints, periodic reloads and the reload after Gather refuses one.
 */
@Module({ providers: [KeySourceFactory, GatherKeys], exports: [GatherKeys] })
export class KeysModule {}
