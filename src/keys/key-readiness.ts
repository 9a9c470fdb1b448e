import { readinessCheck } from '../http/readiness';
import { GatherKeys } from './gather-keys.service';

/** `/readyz` fails while the server holds no usable main key (docs/contract.md, "Health and metrics"). */
export const keyReadiness = readinessCheck('gather-key', GatherKeys, (keys) =>
  keys.ready ? Promise.resolve() : Promise.reject(new Error('no usable Gather key')),
);
