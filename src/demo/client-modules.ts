import type { NextFunction, Request, Response } from 'express';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ModuleKind, ScriptTarget, transpileModule } from 'typescript';

/** The browser client package's TypeScript source, from src/demo and from dist/demo alike. */
export const CLIENT_SOURCE_DIR = join(__dirname, '..', '..', 'packages', 'client', 'src');

/** Where the demo page imports the client from. */
export const CLIENT_URL_PREFIX = '/client/';

/**
 * The client's one dependency, `structured-headers` (ES modules, no dependencies of its own),
 * served beside it: the page has no bundler, so the client's bare import is pointed here.
 */
const VENDOR_PREFIX = `${CLIENT_URL_PREFIX}vendor/structured-headers/`;
const VENDOR_DIR = join(dirname(require.resolve('structured-headers')), '..', 'dist');
const BARE_IMPORT = /from 'structured-headers'/g;

/**
 * The client package as the browser loads it: each module compiled from its source once, at
 * start-up, keyed by its URL (`/client/index.js`). Compiling here rather than in a build step
 * means `npm run demo` and the tests always serve the client as it is in the tree.
 */
export function compileClientModules(dir = CLIENT_SOURCE_DIR): ReadonlyMap<string, string> {
  const modules = new Map<string, string>();
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.ts') || file.endsWith('.spec.ts') || file.endsWith('.d.ts')) continue;
    const { outputText } = transpileModule(readFileSync(join(dir, file), 'utf8'), {
      fileName: file,
      compilerOptions: { target: ScriptTarget.ES2022, module: ModuleKind.ES2022 },
    });
    modules.set(
      `${CLIENT_URL_PREFIX}${file.replace(/\.ts$/, '.js')}`,
      outputText.replace(BARE_IMPORT, `from '${VENDOR_PREFIX}index.js'`),
    );
  }
  for (const file of readdirSync(VENDOR_DIR)) {
    if (file.endsWith('.js'))
      modules.set(`${VENDOR_PREFIX}${file}`, readFileSync(join(VENDOR_DIR, file), 'utf8'));
  }
  return modules;
}

/** Serves the compiled modules; anything else goes on to the next handler. */
export function serveClientModules(modules: ReadonlyMap<string, string>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const code = req.method === 'GET' || req.method === 'HEAD' ? modules.get(req.path) : undefined;
    if (code === undefined) return next();
    res.type('text/javascript; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    res.send(code);
  };
}
