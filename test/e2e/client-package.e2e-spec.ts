import { execFile } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const PACKAGE = join(ROOT, 'packages', 'client');
const TSC = require.resolve('typescript/bin/tsc');

/** A consumer's TypeScript: the published types must check, and misuse must not. */
const CONSUMER_TS = `
import { createGatherClient, GatherError, type Me, type SessionInfo } from '@gather-bff/client';
const client = createGatherClient({ onUnauthorized: (e: GatherError) => void e.requestId });
export const me: Promise<Me> = client.me();
export const sessions: Promise<SessionInfo[]> = client.sessions();
// @ts-expect-error -- the wrappers are typed
export const wrong: Promise<string> = client.me();
export const code: string = new GatherError({ status: 0, code: 'NETWORK_ERROR', message: '', requestId: null }).code;
`;

/** A browser app's settings: the DOM, no Node types. */
const CONSUMER_TSCONFIG = {
  compilerOptions: {
    strict: true,
    noEmit: true,
    module: 'nodenext',
    target: 'es2022',
    lib: ['es2022', 'dom'],
    types: [],
  },
  files: ['consumer.mts'],
};

/** A consumer in plain Node ESM, resolving the package through its exports map. */
const CONSUMER_MJS = `
import { createGatherClient, GatherError } from '@gather-bff/client';
const envelope = { error: { code: 'NOT_FOUND', message: 'Resource not found' }, meta: { requestId: 'r-1', timestamp: 't' } };
const fetch = async () => new Response(JSON.stringify(envelope), { status: 404, headers: { 'content-type': 'application/json' } });
try {
  await createGatherClient({ fetch }).gather('/questions/q_99');
} catch (err) {
  console.log(JSON.stringify({ isGatherError: err instanceof GatherError, status: err.status, code: err.code, requestId: err.requestId }));
}
`;

describe('the @gather-bff/client package', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gather-client-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('declares ESM, types and one runtime dependency, structured-headers', () => {
    const manifest = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest).toMatchObject({
      name: '@gather-bff/client',
      type: 'module',
      types: './dist/index.d.ts',
      exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    });
    expect(manifest.dependencies).toEqual({ 'structured-headers': expect.any(String) as string });
    for (const field of ['peerDependencies', 'optionalDependencies']) {
      expect(manifest[field]).toBeUndefined();
    }
  });

  it('builds to ES modules with declarations that a consumer imports by name', async () => {
    const installed = join(dir, 'node_modules', '@gather-bff', 'client');
    mkdirSync(installed, { recursive: true });
    cpSync(join(PACKAGE, 'package.json'), join(installed, 'package.json'));
    // Its one dependency, as npm would install it beside it.
    cpSync(
      join(ROOT, 'node_modules', 'structured-headers'),
      join(dir, 'node_modules', 'structured-headers'),
      { recursive: true },
    );
    await run(process.execPath, [
      TSC,
      '-p',
      join(PACKAGE, 'tsconfig.build.json'),
      '--outDir',
      join(installed, 'dist'),
    ]);
    const built = readdirSync(join(installed, 'dist'));
    expect(built).toEqual(expect.arrayContaining(['index.js', 'index.d.ts', 'gather-client.js']));
    expect(built.filter((f) => f.includes('spec'))).toEqual([]);
    const js = readFileSync(join(installed, 'dist', 'gather-client.js'), 'utf8');
    expect(js).toMatch(/^export function createGatherClient/m);
    expect(js).not.toMatch(/\brequire\(/);

    writeFileSync(join(dir, 'consumer.mts'), CONSUMER_TS);
    writeFileSync(join(dir, 'consumer.mjs'), CONSUMER_MJS);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(CONSUMER_TSCONFIG));
    // The @ts-expect-error line fails the check if the types were lost (any) or wrong.
    await run(process.execPath, [TSC, '-p', dir]).catch((err: Error & { stdout?: string }) => {
      throw new Error(`${err.message}\n${err.stdout ?? ''}`);
    });
    const { stdout } = await run(process.execPath, [join(dir, 'consumer.mjs')], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual({
      isGatherError: true,
      status: 404,
      code: 'NOT_FOUND',
      requestId: 'r-1',
    });
  }, 60_000);

  it('packs into a tarball a frontend installs: built files, sources for the maps, no tests', async () => {
    // As a frontend developer would: `npm pack` in a copy of packages/client (prepack builds).
    const copy = join(dir, 'pack', 'client');
    for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'src']) {
      cpSync(join(PACKAGE, f), join(copy, f), { recursive: true });
    }
    const env = {
      ...process.env,
      PATH: [join(ROOT, 'node_modules', '.bin'), dirname(process.execPath), process.env.PATH].join(
        delimiter,
      ),
    };
    const npm = (args: string[], cwd: string) => run('npm', args, { cwd, env });
    const { stdout } = await npm(['pack', '--json', '--pack-destination', dir], copy);
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    const files = (packed?.files ?? []).map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/sign-in.js',
        'dist/gather-answer.d.ts',
        'src/index.ts',
      ]),
    );
    expect(files.filter((f) => f.includes('.spec.'))).toEqual([]);

    // `npm install <tarball>` in the frontend. No registry here, and npm's cache holds the
    // dependency's tarball but not always the registry's index of it: the one dependency comes
    // packed from the repository's own install, and npm must find it satisfies the client's range.
    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', type: 'module' }));
    const dependency = join(ROOT, 'node_modules', 'structured-headers');
    const { stdout: packedDependency } = await npm(
      ['pack', '--json', '--ignore-scripts', '--pack-destination', dir, dependency],
      dir,
    );
    const [{ filename: dependencyFile = '' } = {}] = JSON.parse(packedDependency) as {
      filename?: string;
    }[];
    await npm(
      [
        'install',
        '--offline',
        '--no-audit',
        '--no-fund',
        join(dir, dependencyFile),
        join(dir, packed?.filename ?? ''),
      ],
      app,
    );
    writeFileSync(
      join(app, 'main.js'),
      `import { signInUrl } from '@gather-bff/client';\nconsole.log(signInUrl({ returnTo: '/q?x=1' }));\n`,
    );
    const out = await run(process.execPath, [join(app, 'main.js')], { cwd: app });
    expect(out.stdout.trim()).toBe('/auth/login?returnTo=%2Fq%3Fx%3D1');
  }, 120_000);
});
