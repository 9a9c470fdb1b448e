import { TEST_ORIGIN } from './start-app';

/** What one Set-Cookie header says. */
export interface SetCookie {
  name: string;
  value: string;
  /** Attributes as written, except Expires (a date that moves). */
  attributes: string[];
  /** Max-Age=0 or an Expires in the past: the browser drops the cookie. */
  deletes: boolean;
}

export function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...attributes] = header.split('; ');
  const eq = pair.indexOf('=');
  const expires = attributes.find((a) => /^expires=/i.test(a));
  return {
    name: pair.slice(0, eq),
    value: pair.slice(eq + 1),
    attributes: attributes.filter((a) => !/^expires=/i.test(a)),
    deletes:
      attributes.some((a) => /^max-age=0$/i.test(a)) ||
      (expires !== undefined && Date.parse(expires.slice(8)) < Date.now()),
  };
}

export const setCookiesOf = (res: Response): SetCookie[] =>
  res.headers.getSetCookie().map(parseSetCookie);

/**
 * Just enough of a browser for an OIDC sign-in: one cookie jar per origin (by name only: the
 * provider's cookies differ by path but never collide in one flow), no automatic redirects. The BFF is known by its public origin (PUBLIC_URL, where the provider
 * redirects); requests to it go to the test app's real address.
 */
export class OidcBrowser {
  private readonly jars = new Map<string, Map<string, string>>();

  constructor(private readonly bffUrl: string) {}

  jar(origin: string): Map<string, string> {
    let jar = this.jars.get(origin);
    if (!jar) this.jars.set(origin, (jar = new Map<string, string>()));
    return jar;
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const jar = this.jar(target.origin);
    const address =
      target.origin === TEST_ORIGIN
        ? new URL(target.href.slice(TEST_ORIGIN.length), this.bffUrl)
        : target;
    const headers = new Headers(init.headers);
    if (jar.size > 0) {
      headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    }
    const res = await fetch(address, { ...init, headers, redirect: 'manual' });
    for (const cookie of setCookiesOf(res)) {
      if (cookie.deletes) jar.delete(cookie.name);
      else jar.set(cookie.name, cookie.value);
    }
    return res;
  }
}

/** The one form of a provider page: where it posts, and its named inputs with their values. */
export function formOf(html: string): { action: string; fields: Record<string, string> } {
  const form = /<form([^>]*)>([\s\S]*?)<\/form>/.exec(html);
  const action = /action="([^"]+)"/.exec(form?.[1] ?? '')?.[1];
  if (!form || action === undefined || !/method="post"/.test(form[1] as string)) {
    throw new Error(`no POST form on the provider page:\n${html.slice(0, 500)}`);
  }
  const fields: Record<string, string> = {};
  for (const input of (form[2] as string).matchAll(/<input[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(input[0])?.[1];
    if (name !== undefined) fields[name] = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
  }
  return { action: action.replace(/&amp;/g, '&'), fields };
}

/** What the user does at the provider: sign in as an account (its login), or cancel. */
export type AtProvider = string | { cancel: true };

/**
 * Walks the provider from its authorization URL as a user would: follows redirects, fills in
 * the login page (or follows its cancel link) and confirms consent. Stops at the BFF's callback
 * URL (not requested yet) so a test can use, alter or replay it.
 */
export async function throughProvider(
  browser: OidcBrowser,
  authorizationUrl: string,
  user: AtProvider,
): Promise<string> {
  const callback = `${TEST_ORIGIN}/auth/callback`;
  let url = authorizationUrl;
  let res = await browser.request(url);
  for (let step = 0; step < 20; step++) {
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location') as string, url).href;
      if (url.startsWith(callback)) return url;
      res = await browser.request(url);
      continue;
    }
    if (res.status !== 200) throw new Error(`provider answered ${res.status} at ${url}`);
    const html = await res.text();
    if (typeof user !== 'string') {
      const abort = /<a href="([^"]+\/abort)"/.exec(html)?.[1];
      if (abort === undefined) throw new Error('no cancel link on the provider page');
      url = new URL(abort, url).href;
      res = await browser.request(url);
      continue;
    }
    const { action, fields } = formOf(html);
    if (fields.prompt === 'login') Object.assign(fields, { login: user, password: 'any password' });
    url = new URL(action, url).href;
    res = await browser.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }
  throw new Error('the provider never redirected back to the BFF');
}

/** A login transaction cookie's name (one per sign-in in progress, named after its state). */
export const TRANSACTION_COOKIE = /^(?:__Host-)?gather_oidc_[\w-]{16}$/;

/** The login transaction cookies a jar holds, as [name, value]. */
export const transactionCookiesIn = (jar: Map<string, string>): [string, string][] =>
  [...jar].filter(([name]) => TRANSACTION_COOKIE.test(name));

/** `GET /auth/login`: the provider's authorization URL the BFF redirected to. */
export async function startOidcLogin(browser: OidcBrowser, returnTo?: string): Promise<string> {
  const query = returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(returnTo)}`;
  const res = await browser.request(`${TEST_ORIGIN}/auth/login${query}`);
  if (res.status !== 302) throw new Error(`GET /auth/login answered ${res.status}`);
  return res.headers.get('location') as string;
}

/** The `Cookie` value (name=value) of the session cookie a callback set. */
export function sessionCookieOf(res: Response): string {
  const session = setCookiesOf(res).find((c) => /gather_session$/.test(c.name) && !c.deletes);
  if (!session) throw new Error(`no session cookie; status ${res.status}`);
  return `${session.name}=${session.value}`;
}

/** Login, provider, callback: the callback's response (302 on success). */
export async function signInWithOidc(
  browser: OidcBrowser,
  login: string,
  returnTo?: string,
): Promise<Response> {
  const authorizationUrl = await startOidcLogin(browser, returnTo);
  return browser.request(await throughProvider(browser, authorizationUrl, login));
}
