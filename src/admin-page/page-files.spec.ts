import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, matchesGlob, relative } from 'node:path';
import { tempDir } from '../../test/support/temp-dir';
import {
  PAGE_ASSETS,
  PAGE_CONTENT_SECURITY_POLICY,
  PAGE_PATH,
  pageFiles,
  PUBLIC_DIR,
  type PageAsset,
} from './page-files';

const ROOT = join(__dirname, '..', '..');

describe('pageFiles', () => {
  let assets: PageAsset[];
  beforeAll(async () => {
    const dir = await tempDir('gather-admin-page-');
    await writeFile(join(dir, 'a.js'), 'console.log(1);\n');
    await writeFile(join(dir, 'b.css'), 'body { color: red; }\n');
    assets = [
      { name: 'a.js', file: join(dir, 'a.js'), type: 'text/javascript; charset=utf-8' },
      { name: 'b.css', file: join(dir, 'b.css'), type: 'text/css; charset=utf-8' },
    ];
  });
  const html = '<link href="b.css" /><script src="a.js"></script>';

  it('names each file by its content hash, and the page by those names', () => {
    const files = pageFiles(html, assets);
    const paths = [...files.keys()];
    expect(paths).toEqual([
      expect.stringMatching(/^\/admin\/a\.[0-9a-f]{12}\.js$/),
      expect.stringMatching(/^\/admin\/b\.[0-9a-f]{12}\.css$/),
      PAGE_PATH,
    ]);
    const page = files.get(PAGE_PATH)?.body.toString('utf8');
    expect(page).toBe(
      `<link href="${paths[1]?.slice(7)}" /><script src="${paths[0]?.slice(7)}"></script>`,
    );
    expect(files.get(paths[0] as string)?.body.toString('utf8')).toBe('console.log(1);\n');
  });

  it('keeps the page no-store and the named files for a year, all under the same policy', () => {
    const files = [...pageFiles(html, assets)];
    const headers = (type: string, cache: string, body: Buffer) => ({
      'Content-Type': type,
      'Content-Length': String(body.length),
      'Cache-Control': cache,
      'Content-Security-Policy': PAGE_CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    const year = 'max-age=31536000, immutable';
    expect(files.map(([, file]) => file.headers)).toEqual([
      headers('text/javascript; charset=utf-8', year, files[0]?.[1].body as Buffer),
      headers('text/css; charset=utf-8', year, files[1]?.[1].body as Buffer),
      headers('text/html; charset=utf-8', 'no-store', files[2]?.[1].body as Buffer),
    ]);
  });

  it('gives a changed file a new name', async () => {
    const before = [...pageFiles(html, assets).keys()];
    await writeFile(assets[0]?.file as string, 'console.log(2);\n');
    const after = [...pageFiles(html, assets).keys()];
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).toBe(before[1]);
  });

  it('refuses a page that does not refer to a file exactly once', () => {
    expect(() => pageFiles('<script src="a.js"></script>', assets)).toThrow(/b\.css/);
    expect(() => pageFiles(`${html}<script src="a.js"></script>`, assets)).toThrow(/a\.js/);
  });

  it('serves the real page with every file it loads, its CSP allowing nothing inline', () => {
    const files = pageFiles();
    expect(files.size).toBe(5);
    expect(PAGE_CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|\*|https?:/);
  });

  it('ships in dist/: the build copies the page and its own files, the image keeps them', () => {
    const nestCli = JSON.parse(readFileSync(join(ROOT, 'nest-cli.json'), 'utf8')) as {
      compilerOptions: { assets: { include: string; outDir: string }[] };
    };
    const own = [join(PUBLIC_DIR, 'index.html'), ...PAGE_ASSETS.map((a) => a.file)].filter((f) =>
      f.startsWith(PUBLIC_DIR),
    );
    expect(own).toHaveLength(3);
    for (const file of own) {
      const path = relative(join(ROOT, 'src'), file);
      const copied = nestCli.compilerOptions.assets.some(
        (a) => a.outDir === 'dist' && matchesGlob(path, a.include),
      );
      expect([path, copied]).toEqual([path, true]);
    }
    // uPlot is served from node_modules: a production dependency, pinned exactly.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies.uplot).toMatch(/^\d+\.\d+\.\d+$/);
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).not.toMatch(/rm [^\n]*dist\/admin-page/);
  });
});
