import { Module } from '@nestjs/common';
import { GatherKeys } from './gather-keys.service';

/** Owns the server-held Gather keys: their sources, validation, fingerprints and reloads. */
@Module({ providers: [GatherKeys], exports: [GatherKeys] })
export class KeysModule {}
