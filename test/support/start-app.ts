import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createApp } from '../../src/bootstrap';
import { loadConfig, type Env } from '../../src/config/load-config';
import { MetricsServer } from '../../src/observability/metrics-server';

/** The key every suite gives the BFF; the leak checks look for exactly this string. */
export const TEST_KEY = 'qapi_testKEY0123456789abcdefXYZ';

export const TEST_ORIGIN = 'http://localhost:3000';

export interface TestApp {
  readonly app: NestExpressApplication;
  /** `http://127.0.0.1:<port>` of the public listener. */
  readonly url: string;
  /** Every log line the apps of this test file wrote so far, as text. */
  logs(): string;
  close(): Promise<void>;
}

/** A valid environment for tests; each suite overrides what it exercises. */
export function testEnv(overrides: Env = {}): Env {
  return {
    APP_ENV: 'test',
    SESSION_SECRET: randomBytes(32).toString('hex'),
    GATHER_API_KEY: TEST_KEY,
    GATHER_BASE_URL: 'http://127.0.0.1:9/qsi/gather',
    PUBLIC_URL: TEST_ORIGIN,
    COOKIE_SECURE: 'false',
    PORT: '0',
    HOST: '127.0.0.1',
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    ...overrides,
  };
}

export const CONFIG_DIR = join(__dirname, '..', '..', 'config');

/*
 * One log sink per test file, shared by every app it starts: nestjs-pino keeps its root logger
 * in a static, so a second app's lines can land in the first app's stream. A leak check must
 * read them all, whichever app wrote them.
 */
const sink = new PassThrough();
const lines: string[] = [];
sink.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));

/**
 * Starts the real application on an ephemeral loopback port with the given environment;
 * `configDir` replaces the repository's config/ (for suites that need other YAML).
 */
export async function startTestApp(overrides: Env = {}, configDir = CONFIG_DIR): Promise<TestApp> {
  const config = loadConfig(testEnv(overrides), configDir);
  const app = await createApp(config, { logDestination: sink });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    logs: () => lines.join(''),
    close: () => app.close(),
  };
}

/** `http://127.0.0.1:<port>` of the app's metrics listener (started with a METRICS_PORT). */
export const metricsUrl = (t: TestApp): string =>
  `http://127.0.0.1:${t.app.get(MetricsServer).address()?.port as number}`;
