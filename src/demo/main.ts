import 'reflect-metadata';
import { ConfigError } from '../config/load-config';
import { readableLog } from './readable-log';
import { DemoRefusedError, startDemo } from './start-demo';

/**
 * `npm run demo`: the service, a simulated Gather and a demo user; refuses production. A person
 * watches this terminal, so its log lines are made readable (the service itself logs JSON).
 */
async function main(): Promise<void> {
  const demo = await startDemo({
    env: process.env,
    logDestination: readableLog(process.stdout, process.env),
  });
  process.stdout.write(`\n${demo.banner}\n\n`);
}

main().catch((err: unknown) => {
  const message =
    err instanceof ConfigError || err instanceof DemoRefusedError
      ? err.message
      : `Demo failed to start: ${(err as Error).message}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
