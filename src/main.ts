import 'reflect-metadata';
import { startApp } from './bootstrap';
import { ConfigError, loadConfig } from './config/load-config';
import { configWarnings } from './config/production-rules';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  for (const warning of configWarnings(config)) process.stderr.write(`WARNING: ${warning}\n`);
  await startApp(config);
}

main().catch((err: unknown) => {
  // A refused start-up says why in one message; configuration and key errors never carry values.
  const message =
    err instanceof ConfigError ? err.message : `Start-up failed: ${(err as Error).message}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
