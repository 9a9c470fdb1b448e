import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { KeyPauses } from './key-pauses';

/** The pauses of Gather keys that Gather asked for (docs/capacity.md, "Pauses"). */
@Module({ imports: [KeysModule], providers: [KeyPauses], exports: [KeyPauses] })
export class PausesModule {}
