import { signIn, signInError, signInUrl } from './sign-in.js';

/** The page the helpers read when not told otherwise; jest runs in Node, which has none. */
function onPage(href: string, run: () => void): string[] {
  const assigned: string[] = [];
  const url = new URL(href);
  const location = {
    href,
    pathname: url.pathname,
    search: url.search,
    hash: url.hash,
    assign: (to: string) => assigned.push(to),
  };
  Object.defineProperty(globalThis, 'location', { value: location, configurable: true });
  try {
    run();
  } finally {
    Reflect.deleteProperty(globalThis, 'location');
  }
  return assigned;
}

describe('signIn', () => {
  it('navigates to /auth/login with returnTo encoded', () => {
    const went: string[] = [];
    signIn({ returnTo: '/reports?week=3&team=a b#top', navigate: (url) => went.push(url) });
    expect(went).toEqual(['/auth/login?returnTo=%2Freports%3Fweek%3D3%26team%3Da%20b%23top']);
  });

  it('comes back to the current page by default, with location.assign', () => {
    const assigned = onPage('https://app.example.com/q/7?tab=answers#a2', () => signIn());
    expect(assigned).toEqual(['/auth/login?returnTo=%2Fq%2F7%3Ftab%3Danswers%23a2']);
  });

  it('puts the BFF’s baseUrl in front, without a doubled slash', () => {
    expect(signInUrl({ returnTo: '/', baseUrl: '/bff/' })).toBe('/bff/auth/login?returnTo=%2F');
  });

  it.each(['https://evil.example/', '//evil.example/', '/\\evil.example', 'reports', ''])(
    'refuses returnTo %j, which the BFF would not honour',
    (returnTo) => {
      const went: string[] = [];
      expect(() => signIn({ returnTo, navigate: (url) => went.push(url) })).toThrow(TypeError);
      expect(went).toEqual([]);
    },
  );
});

describe('signInError', () => {
  it('reads the provider’s error code from signin_error, or null', () => {
    expect(signInError('/reports?week=3&signin_error=access_denied')).toBe('access_denied');
    expect(signInError('https://app.example.com/reports?week=3')).toBeNull();
  });

  it('reads the current page by default', () => {
    let code: string | null = 'unset';
    onPage('https://app.example.com/?signin_error=login_required', () => {
      code = signInError();
    });
    expect(code).toBe('login_required');
  });
});
