import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the page's own files are, in src/ for the tests and in dist/ for `npm start`. */
export const PUBLIC_DIR = join(__dirname, 'public');

/** Where the page is served; its files sit beside it. */
export const PAGE_PATH = '/admin/';

/**
 * The page's policy: its own files only, nothing inline, nothing from another origin, never in a
 * frame. `connect-src 'self'` is what lets it call the admin routes beside it.
 */
export const PAGE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The page itself: read again on every visit, so a new release or token prompt is never stale. */
const PAGE_CACHE = 'no-store';
/** A file named by its content hash never changes under that name (docs/contract.md). */
const FILE_CACHE = 'max-age=31536000, immutable';

/** A file the page loads, by the name the HTML refers to it with. */
export interface PageAsset {
  readonly name: string;
  readonly file: string;
  readonly type: string;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/**
 * What the page loads: its script and style sheet, and uPlot's (from node_modules, resolved at
 * start-up, so the pinned release in package.json is the one served).
 */
export const PAGE_ASSETS: readonly PageAsset[] = [
  { name: 'uPlot.min.css', file: require.resolve('uplot/dist/uPlot.min.css'), type: CSS },
  { name: 'admin.css', file: join(PUBLIC_DIR, 'admin.css'), type: CSS },
  { name: 'uPlot.iife.min.js', file: require.resolve('uplot/dist/uPlot.iife.min.js'), type: JS },
  { name: 'admin.js', file: join(PUBLIC_DIR, 'admin.js'), type: JS },
];

/** One answer of the page's routes, built once at start-up. */
export interface PageFile {
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

/** `admin.js` with its content hash: `admin.1a2b3c4d5e6f.js`. */
function hashedName(name: string, body: Buffer): string {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  const dot = name.lastIndexOf('.');
  return `${name.slice(0, dot)}.${hash}${name.slice(dot)}`;
}

function answer(body: Buffer, type: string, cache: string): PageFile {
  return {
    body,
    headers: {
      'Content-Type': type,
      'Content-Length': String(body.length),
      'Cache-Control': cache,
      'Content-Security-Policy': PAGE_CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    },
  };
}

/**
 * The page and its files by path, read once: each file under a name that carries its content
 * hash and cached for a year, the page (no-store) rewritten to name them so. The HTML refers to
 * each file once, as `"<name>"`; a reference that is missing stops start-up rather than serve a
 * page that cannot load.
 */
export function pageFiles(
  html = readFileSync(join(PUBLIC_DIR, 'index.html'), 'utf8'),
  assets: readonly PageAsset[] = PAGE_ASSETS,
): ReadonlyMap<string, PageFile> {
  const files = new Map<string, PageFile>();
  let page = html;
  for (const asset of assets) {
    const body = readFileSync(asset.file);
    const served = hashedName(asset.name, body);
    const reference = `"${asset.name}"`;
    if (page.split(reference).length !== 2) {
      throw new Error(`The operators' page must refer to ${asset.name} exactly once`);
    }
    page = page.replace(reference, `"${served}"`);
    files.set(`${PAGE_PATH}${served}`, answer(body, asset.type, FILE_CACHE));
  }
  files.set(PAGE_PATH, answer(Buffer.from(page), 'text/html; charset=utf-8', PAGE_CACHE));
  return files;
}
