import type { NestExpressApplication } from '@nestjs/platform-express';
import { argon2id, hash } from 'argon2';
import type { NextFunction, Request, Response } from 'express';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { createApp } from '../bootstrap';
import type { AppConfig, RouteLimitRule } from '../config/config.schema';
import { loadConfig, type Env } from '../config/load-config';
import { freePort } from '../http/free-port';
import { compileClientModules, serveClientModules } from './client-modules';
import { startGatherSimulator } from './gather-simulator';

/** The demo would hand out a known user and a throw-away key: never in production. */
export class DemoRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoRefusedError';
  }
}

export interface DemoOptions {
  /** The environment the demo starts from; its key, secret and upstream settings are replaced. */
  env?: Env;
  /** Overrides PORT (default 3000); 0 picks a free port. */
  port?: number;
  /** Overrides HOST (default 0.0.0.0). */
  host?: string;
  /** Where log lines go instead of stdout. */
  logDestination?: Writable;
  /** The key the simulator and the BFF share; random by default (tests pass one to look for it). */
  apiKey?: string;
}

export interface Demo {
  readonly app: NestExpressApplication;
  /** The browser-facing address, `http://localhost:<port>/`. */
  readonly url: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  /** What the demo tells its operator: where to go and how to sign in. Never the key. */
  readonly banner: string;
  close(): Promise<void>;
}

export const DEMO_USERNAME = 'demo';

/**
 * Reading single questions is limited tightly in the demo, so that the page's burst of calls
 * reaches `429 RATE_LIMITED` at once and its countdown is short.
 */
export const DEMO_QUESTION_LIMIT: RouteLimitRule = {
  method: 'GET',
  path: '/questions/*',
  limit: 5,
  windowSeconds: 15,
};

function withDemoLimits(config: AppConfig): AppConfig {
  const rateLimit = {
    ...config.rateLimit,
    routes: [...config.rateLimit.routes, DEMO_QUESTION_LIMIT],
  };
  return { ...config, rateLimit };
}

/**
 * Settings the demo makes up itself. Whatever the shell holds for them (a real key, a real
 * Gather, an identity provider) must not reach a service whose password is printed.
 */
const REPLACED =
  /^(GATHER_(READONLY_)?API_KEY(_FILE|_REF)?|GATHER_BASE_URL|SESSION_SECRET(_FILE)?|AUTH_LOCAL_USERS_FILE|OIDC_[A-Z_]+|PUBLIC_URL|ALLOWED_ORIGINS|COOKIE_SECURE)$/;

function resolvePort(option: number | undefined, raw: string | undefined): number {
  const port = option ?? (raw === undefined || raw === '' ? 3000 : Number(raw));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new DemoRefusedError(`PORT must be an integer from 0 to 65535 (got "${raw}")`);
  }
  return port;
}

/**
 * Helmet's CSP asks browsers to upgrade requests to https; Safari does so even on
 * http://localhost, which would break the page's own script and style sheet.
 */
function allowPlainHttpAssets(_req: Request, res: Response, next: NextFunction): void {
  const csp = res.getHeader('Content-Security-Policy');
  if (typeof csp === 'string') {
    res.setHeader(
      'Content-Security-Policy',
      csp
        .split(';')
        .filter((d) => d.trim() !== 'upgrade-insecure-requests')
        .join(';'),
    );
  }
  next();
}

async function writeUsersFile(dir: string, password: string): Promise<string> {
  const file = join(dir, 'users.json');
  const passwordHash = await hash(password, { type: argon2id });
  const users = [
    {
      username: DEMO_USERNAME,
      passwordHash,
      name: 'Demo User',
      email: 'demo@example.com',
      team: 'demo',
    },
  ];
  await writeFile(file, JSON.stringify({ users }, null, 2), { mode: 0o600 });
  return file;
}

/**
 * The whole service with a Gather simulator, a demo user and the demo page at `/`: a random
 * key shared by the simulator and the BFF, a random session secret and password, plain-http
 * cookies on localhost. Everything it creates goes away with `close()` or the app's shutdown.
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const env = options.env ?? {};
  if (env.APP_ENV === 'production') {
    throw new DemoRefusedError(
      'The demo does not run with APP_ENV=production: it creates a known user and a throw-away key. Use `npm start` with real settings.',
    );
  }
  const host = options.host ?? (env.HOST || '0.0.0.0');
  let port = resolvePort(options.port, env.PORT);
  // PUBLIC_URL must name the real port before the app exists, so port 0 is resolved first.
  if (port === 0) port = await freePort(host);

  const apiKey = options.apiKey ?? `qapi_${randomBytes(24).toString('base64url')}`;
  const password = randomBytes(12).toString('base64url');
  const dir = await mkdtemp(join(tmpdir(), 'gather-demo-'));
  const simulator = await startGatherSimulator({ apiKey });
  let cleanup: Promise<void> | undefined;
  const cleanUp = (): Promise<void> => {
    if (!cleanup) {
      // Synchronous: after a signal, Nest re-raises it as soon as the server has closed.
      rmSync(dir, { recursive: true, force: true });
      cleanup = simulator.close();
    }
    return cleanup;
  };

  let app: NestExpressApplication | undefined;
  try {
    const kept = Object.fromEntries(Object.entries(env).filter(([name]) => !REPLACED.test(name)));
    const publicUrl = `http://localhost:${port}`;
    const config = withDemoLimits(
      loadConfig(
        {
          METRICS_PORT: '0',
          ...kept,
          PORT: String(port),
          HOST: host,
          PUBLIC_URL: publicUrl,
          // Either name of the loopback host works in the browser.
          ALLOWED_ORIGINS: `${publicUrl},http://127.0.0.1:${port}`,
          COOKIE_SECURE: 'false',
          GATHER_API_KEY: apiKey,
          GATHER_BASE_URL: simulator.baseUrl,
          SESSION_SECRET: randomBytes(32).toString('hex'),
          AUTH_LOCAL_USERS_FILE: await writeUsersFile(dir, password),
        },
        join(__dirname, '..', '..', 'config'),
      ),
    );
    app = await createApp(config, { logDestination: options.logDestination });
    app.use(allowPlainHttpAssets);
    app.use(serveClientModules(compileClientModules()));
    app.useStaticAssets(join(__dirname, 'public'));
    // A shutdown by signal closes the app, not the demo: tidy up on the server's close either way.
    app.getHttpServer().once('close', () => void cleanUp());
    await app.listen(port, host);
    const url = `${publicUrl}/`;
    const started = app;
    return {
      app: started,
      url,
      port,
      username: DEMO_USERNAME,
      password,
      banner: [
        `Gather BFF demo: open ${url}`,
        `Sign in as "${DEMO_USERNAME}" with password "${password}"`,
        'Gather is simulated in this process. Press Ctrl+C to stop.',
      ].join('\n'),
      close: async () => {
        await started.close();
        await cleanUp();
      },
    };
  } catch (err) {
    await app?.close();
    await cleanUp();
    throw err;
  }
}
