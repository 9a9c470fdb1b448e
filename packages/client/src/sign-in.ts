/** Where `signIn` sends the browser, and how; both default to the page's own. */
export interface SignInOptions {
  /**
   * The page to come back to after signing in: a path on this origin (`/reports?week=3`).
   * Defaults to the current page. The BFF honours nothing else (docs/contract.md, Routes).
   */
  returnTo?: string;
  /** Where the BFF is mounted, as for `createGatherClient`; '' (the default) is this origin. */
  baseUrl?: string;
  /** Defaults to `location.assign`: a top-level navigation, as the provider's page needs. */
  navigate?: (url: string) => void;
}

const currentPage = (): string => {
  const { pathname, search, hash } = globalThis.location;
  return `${pathname}${search}${hash}`;
};

/** `GET /auth/login?returnTo=…`: the URL that starts an OIDC sign-in (for a link's `href`). */
export function signInUrl(options: Omit<SignInOptions, 'navigate'> = {}): string {
  const returnTo = options.returnTo ?? currentPage();
  // The BFF would replace another origin by "/" silently; say so where the mistake is made.
  if (!returnTo.startsWith('/') || returnTo.startsWith('//') || returnTo.startsWith('/\\')) {
    throw new TypeError(`returnTo must be a path on this origin: ${JSON.stringify(returnTo)}`);
  }
  const baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
  return `${baseUrl}/auth/login?returnTo=${encodeURIComponent(returnTo)}`;
}

/**
 * Starts an OIDC sign-in: the browser leaves for the identity provider and comes back to
 * `returnTo` with a session, or with `signin_error` in the query when the provider refused.
 */
export function signIn(options: SignInOptions = {}): void {
  const url = signInUrl(options);
  (options.navigate ?? ((to: string) => globalThis.location.assign(to)))(url);
}

/**
 * The provider's error code when a sign-in came back refused or cancelled (`access_denied`, …),
 * read from the page's query (`signin_error`); null otherwise.
 */
export function signInError(url: string = globalThis.location.href): string | null {
  return new URL(url, 'http://page.invalid').searchParams.get('signin_error');
}
