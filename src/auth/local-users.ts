import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { hashKind } from './password-hash';

const userSchema = z.strictObject({
  username: z.string().min(1),
  passwordHash: z.string().refine((hash) => hashKind(hash) !== undefined, {
    message: 'must be an argon2id ($argon2id$...) or bcrypt ($2a$/$2b$/$2y$...) hash',
  }),
  name: z.string().min(1),
  email: z.email(),
  team: z.string().min(1).optional(),
});

const usersFileSchema = z
  .strictObject({ users: z.array(userSchema).min(1) })
  .superRefine(({ users }, ctx) => {
    const seen = new Set<string>();
    users.forEach(({ username }, i) => {
      if (seen.has(username)) {
        ctx.addIssue({
          code: 'custom',
          path: ['users', i, 'username'],
          message: `duplicate username "${username}"`,
        });
      }
      seen.add(username);
    });
  });

export type LocalUser = z.infer<typeof userSchema>;

/** The users file cannot be used; the message names the file and each problem, never a hash. */
export class LocalUsersFileError extends Error {
  constructor(file: string, problems: readonly string[]) {
    super(`AUTH_LOCAL_USERS_FILE ${file}: ${problems.join('; ')}`);
    this.name = 'LocalUsersFileError';
  }
}

/** Reads and validates `AUTH_LOCAL_USERS_FILE` (YAML, or JSON, which YAML also reads). */
export async function loadLocalUsers(file: string): Promise<LocalUser[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new LocalUsersFileError(file, [
      `cannot be read (${(err as NodeJS.ErrnoException).code})`,
    ]);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    // The parser's first line says where; the rest quotes the file, which may hold hashes.
    throw new LocalUsersFileError(file, [(err as Error).message.split('\n')[0] as string]);
  }
  const parsed = usersFileSchema.safeParse(data);
  if (!parsed.success) {
    throw new LocalUsersFileError(
      file,
      parsed.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`),
    );
  }
  return parsed.data.users;
}

function formatPath(path: readonly PropertyKey[]): string {
  return (
    path
      .map((key, i) =>
        typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`,
      )
      .join('') || '(top level)'
  );
}
