import { argon2id, hash } from 'argon2';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { RawRequest } from './http';
import { SPA_HEADERS } from './spa';
import type { TestApp } from './start-app';
import { tempDir } from './temp-dir';

export interface TestUser {
  username: string;
  password: string;
  name: string;
  email: string;
  team?: string;
}

/**
 * Writes an AUTH_LOCAL_USERS_FILE (YAML, argon2id hashes) in a fresh temp dir, removed when the
 * test file ends; returns its path.
 */
export async function writeUsersFile(users: readonly TestUser[]): Promise<string> {
  const entries = await Promise.all(
    users.map(async ({ password, ...user }) => ({
      ...user,
      passwordHash: await hash(password, { type: argon2id }),
    })),
  );
  const file = join(await tempDir('gather-users-'), 'users.yaml');
  await writeFile(file, stringify({ users: entries }), { mode: 0o600 });
  return file;
}

const loginHeaders = (headers: Record<string, string>): Record<string, string> => ({
  ...SPA_HEADERS,
  'content-type': 'application/json',
  ...headers,
});

/** `POST /auth/login` as the same-origin SPA sends it, for `send` (raw answers); `headers` add or replace. */
export function loginRequest(
  username: string,
  password: string,
  headers: Record<string, string> = {},
): RawRequest {
  return {
    method: 'POST',
    path: '/auth/login',
    headers: loginHeaders(headers),
    body: JSON.stringify({ username, password }),
  };
}

/** `POST /auth/login` as the same-origin SPA sends it, with fetch; `headers` add or replace. */
export function login(
  t: Pick<TestApp, 'url'>,
  username: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${t.url}/auth/login`, {
    method: 'POST',
    headers: loginHeaders(headers),
    body: JSON.stringify({ username, password }),
  });
}

/** Signs in as a same-origin SPA would; returns the `Cookie` header value (name=value). */
export async function signIn(
  t: Pick<TestApp, 'url'>,
  username: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const res = await login(t, username, password, headers);
  const setCookie = res.headers.getSetCookie()[0];
  if (res.status !== 200 || setCookie === undefined) {
    throw new Error(`sign-in as ${username} failed: ${res.status} ${await res.text()}`);
  }
  return setCookie.split(';')[0] as string;
}
