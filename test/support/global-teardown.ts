import { rm } from 'node:fs/promises';
import { RUN_TMPDIR } from './global-setup';

/** Removes the run's temp folder that global-setup.ts made, and nothing else. */
export default async function globalTeardown(): Promise<void> {
  const dir = process.env[RUN_TMPDIR];
  if (dir) await rm(dir, { recursive: true, force: true });
}
