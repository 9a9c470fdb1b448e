import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/http/free-port';
import { expectBffError, send, UUID } from '../support/http';
import { metricsUrl, startTestApp, type TestApp } from '../support/start-app';

const ADMIN_TOKEN = 'admin-page-token-0123456789abcdefgh';
const PUBLIC_DIR = join(__dirname, '..', '..', 'src', 'admin-page', 'public');

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The files the page refers to, by the name it serves them under, and what each must be. */
const FILES = [
  { pattern: /"(admin\.[0-9a-f]{12}\.js)"/, file: join(PUBLIC_DIR, 'admin.js'), type: 'js' },
  { pattern: /"(admin\.[0-9a-f]{12}\.css)"/, file: join(PUBLIC_DIR, 'admin.css'), type: 'css' },
  {
    pattern: /"(uPlot\.iife\.min\.[0-9a-f]{12}\.js)"/,
    file: require.resolve('uplot/dist/uPlot.iife.min.js'),
    type: 'js',
  },
  {
    pattern: /"(uPlot\.min\.[0-9a-f]{12}\.css)"/,
    file: require.resolve('uplot/dist/uPlot.min.css'),
    type: 'css',
  },
] as const;

const CONTENT_TYPE = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

describe("GET /admin/, the operators' page", () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp({ ADMIN_TOKEN, METRICS_PORT: String(await freePort()) });
    admin = metricsUrl(t);
  });
  afterAll(() => t?.close());

  it('is served without a bearer token, no-store, with the strict CSP', async () => {
    const res = await send(admin, { path: '/admin/' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toBe(CSP);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(res.headers['content-length']).toBe(String(res.body.length));
    expect(res.text).toMatch(/^<!doctype html>/);
    // No inline script or style: every script and style sheet is a file beside the page.
    expect(res.text).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(res.text).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('serves each file it loads under its content hash, cached for a year, with the same CSP', async () => {
    const html = (await send(admin, { path: '/admin/' })).text;
    for (const { pattern, file, type } of FILES) {
      const name = pattern.exec(html)?.[1];
      expect([String(pattern), name]).toEqual([String(pattern), expect.any(String)]);
      const res = await send(admin, { path: `/admin/${name}` });
      expect([name, res.status]).toEqual([name, 200]);
      expect(res.headers['content-type']).toBe(CONTENT_TYPE[type]);
      expect(res.headers['cache-control']).toBe('max-age=31536000, immutable');
      expect(res.headers['content-security-policy']).toBe(CSP);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.body.equals(readFileSync(file))).toBe(true);
    }
  });

  it('answers HEAD with the headers and no body', async () => {
    const get = await send(admin, { path: '/admin/' });
    const head = await send(admin, { method: 'HEAD', path: '/admin/' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.headers['content-security-policy']).toBe(CSP);
  });

  it('takes only GET and HEAD: 405 METHOD_NOT_ALLOWED with Allow, token or not', async () => {
    const html = (await send(admin, { path: '/admin/' })).text;
    const script = `/admin/${FILES[0].pattern.exec(html)?.[1]}`;
    for (const [method, path] of [
      ['POST', '/admin/'],
      ['PUT', '/admin/'],
      ['DELETE', script],
    ] as const) {
      for (const headers of [{}, { authorization: `Bearer ${ADMIN_TOKEN}` }]) {
        const res = await fetch(`${admin}${path}`, { method, headers });
        expect(res.headers.get('allow')).toBe('GET, HEAD');
        await expectBffError(res, 405, 'METHOD_NOT_ALLOWED');
      }
    }
  });

  it('opens nothing else: the data routes and unknown files still need the token', async () => {
    for (const path of ['/admin/keys', '/admin/usage?by=key', '/admin/admin.js', '/admin/x']) {
      const res = await fetch(`${admin}${path}`);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      await expectBffError(res, 401, 'UNAUTHORIZED');
    }
    const unhashed = await fetch(`${admin}/admin/admin.js`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    await expectBffError(unhashed, 404, 'NOT_FOUND');
  });

  it('is never on the public port', async () => {
    await expectBffError(await fetch(`${t.url}/admin/`), 404, 'NOT_FOUND');
  });
});

describe("the operators' page without ADMIN_TOKEN", () => {
  it('answers 404 NOT_FOUND, like every admin route', async () => {
    const t = await startTestApp({ METRICS_PORT: String(await freePort()) });
    try {
      for (const method of ['GET', 'HEAD', 'POST']) {
        const res = await fetch(`${metricsUrl(t)}/admin/`, { method });
        expect([method, res.status]).toEqual([method, 404]);
        if (method !== 'HEAD') await expectBffError(res, 404, 'NOT_FOUND');
      }
    } finally {
      await t.close();
    }
  });
});
