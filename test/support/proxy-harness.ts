import type { Env } from '../../src/config/load-config';
import { startFakeGather, type FakeGather } from '../fakes/fake-gather';
import { send, type RawRequest, type RawResponse } from './http';
import { signIn, writeUsersFile, type TestUser } from './session';
import { SPA_HEADERS } from './spa';
import { CONFIG_DIR, startTestApp, type TestApp } from './start-app';

/** The user a proxy suite signs in as unless it names others. */
export const ADA: TestUser = {
  username: 'ada',
  password: 'correct horse battery',
  name: 'Ada',
  email: 'ada@example.com',
  team: 'team-a',
};

export interface SignedInAppOptions {
  /** Settings beyond GATHER_BASE_URL and AUTH_LOCAL_USERS_FILE, which the harness sets. */
  env?: Env;
  /** Replaces the repository's config/ (for other YAML). */
  configDir?: string;
  /** The users file's users; the first is signed in. */
  users?: readonly TestUser[];
}

/** The real app, signed in, in front of a Gather at a given address. */
export interface SignedInApp {
  readonly t: TestApp;
  /** The first user's `Cookie` header value. */
  readonly cookie: string;
  readonly usersFile: string;
  /** `req` as the SPA sends it (SPA_HEADERS and the cookie; `req.headers` add or replace). */
  call(req: RawRequest): Promise<RawResponse>;
  /** Every answer `call` got so far, headers and body as text, for the suites' leak checks. */
  readonly seen: readonly string[];
  close(): Promise<void>;
}

/** The real app with a users file, signed in as the first user, proxying to `gatherBaseUrl`. */
export async function startSignedInApp(
  gatherBaseUrl: string,
  options: SignedInAppOptions = {},
): Promise<SignedInApp> {
  const users = options.users ?? [ADA];
  const usersFile = await writeUsersFile(users);
  const t = await startTestApp(
    { ...options.env, GATHER_BASE_URL: gatherBaseUrl, AUTH_LOCAL_USERS_FILE: usersFile },
    options.configDir ?? CONFIG_DIR,
  );
  const first = users[0] ?? ADA;
  const cookie = await signIn(t, first.username, first.password);
  const seen: string[] = [];
  return {
    t,
    cookie,
    usersFile,
    seen,
    async call(req) {
      const res = await send(t.url, {
        ...req,
        headers: { ...SPA_HEADERS, cookie, ...req.headers },
      });
      seen.push(JSON.stringify(res.headers), res.text);
      return res;
    },
    close: () => t.close(),
  };
}

/** A signed-in app in front of a fake Gather of its own (test/fakes/fake-gather.ts). */
export interface ProxyHarness extends SignedInApp {
  readonly fake: FakeGather;
}

/** Starts a fake Gather and the real app in front of it, signed in; `close` stops both. */
export async function startProxyHarness(options: SignedInAppOptions = {}): Promise<ProxyHarness> {
  const fake = await startFakeGather();
  const app = await startSignedInApp(fake.baseUrl, options);
  return {
    ...app,
    fake,
    async close() {
      await app.close();
      await fake.close();
    },
  };
}
