import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { GatherKeys } from '../keys/gather-keys.service';
import { Readiness } from './readiness';

/** Ready only while the server holds a usable Gather key. */
@Injectable()
export class KeyReadiness implements OnModuleInit {
  constructor(
    @Inject(Readiness) private readonly readiness: Readiness,
    @Inject(GatherKeys) private readonly keys: GatherKeys,
  ) {}

  onModuleInit(): void {
    this.readiness.register('gather-key', () =>
      this.keys.ready ? Promise.resolve() : Promise.reject(new Error('no usable Gather key')),
    );
  }
}
