import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { Readiness } from '../observability/readiness';
import { GatherKeys } from './gather-keys.service';

/** `/readyz` fails while the server holds no usable main key (docs/contract.md, "Health and metrics"). */
@Injectable()
export class KeyReadiness implements OnModuleInit {
  constructor(
    @Inject(GatherKeys) private readonly keys: GatherKeys,
    @Optional() @Inject(Readiness) private readonly readiness: Readiness | null,
  ) {}

  onModuleInit(): void {
    this.readiness?.register('gather-key', () =>
      this.keys.ready ? Promise.resolve() : Promise.reject(new Error('no usable Gather key')),
    );
  }
}
