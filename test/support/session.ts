import { argon2id, hash } from 'argon2';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { TEST_ORIGIN, type TestApp } from './start-app';
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

/** POST /auth/login as a same-origin SPA would; returns the `Cookie` header value (name=value). */
export async function signIn(t: TestApp, username: string, password: string): Promise<string> {
  const res = await fetch(`${t.url}/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: TEST_ORIGIN, 'X-CSRF': '1' },
    body: JSON.stringify({ username, password }),
  });
  const setCookie = res.headers.getSetCookie()[0];
  if (res.status !== 200 || setCookie === undefined) {
    throw new Error(`sign-in as ${username} failed: ${res.status} ${await res.text()}`);
  }
  return setCookie.split(';')[0] as string;
}
