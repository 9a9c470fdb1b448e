import { Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { Readiness } from '../observability/readiness';
import { SessionStore } from './session-store';

/** `/readyz` fails while the session store does not answer (docs/contract.md, "Health and metrics"). */
@Injectable()
export class SessionStoreReadiness implements OnModuleInit {
  constructor(
    @Inject(SessionStore) private readonly store: SessionStore,
    @Optional() @Inject(Readiness) private readonly readiness: Readiness | null,
  ) {}

  onModuleInit(): void {
    this.readiness?.register('session-store', () => this.store.ping());
  }
}
