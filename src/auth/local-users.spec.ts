import { argon2id, hash } from 'argon2';
import { hash as bcryptHash } from 'bcryptjs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLocalUsers, LocalUsersFileError } from './local-users';

describe('loadLocalUsers', () => {
  let dir: string;
  let argon: string;
  let bcrypt: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-users-'));
    argon = await hash('pw', { type: argon2id, memoryCost: 8192, timeCost: 2, parallelism: 1 });
    bcrypt = await bcryptHash('pw', 4);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function file(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  async function problemOf(path: string): Promise<string> {
    const err: unknown = await loadLocalUsers(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LocalUsersFileError);
    return (err as Error).message;
  }

  it('reads YAML with both hash kinds, team optional', async () => {
    const path = await file(
      'ok.yaml',
      [
        'users:',
        `  - { username: ada, passwordHash: "${argon}", name: Ada, email: ada@example.test, team: team-a }`,
        `  - { username: bob, passwordHash: "${bcrypt}", name: Bob, email: bob@example.test }`,
      ].join('\n'),
    );
    await expect(loadLocalUsers(path)).resolves.toEqual([
      {
        username: 'ada',
        passwordHash: argon,
        name: 'Ada',
        email: 'ada@example.test',
        team: 'team-a',
      },
      { username: 'bob', passwordHash: bcrypt, name: 'Bob', email: 'bob@example.test' },
    ]);
  });

  it('reads JSON', async () => {
    const user = { username: 'ada', passwordHash: argon, name: 'Ada', email: 'ada@example.test' };
    const path = await file('ok.json', JSON.stringify({ users: [user] }));
    await expect(loadLocalUsers(path)).resolves.toEqual([user]);
  });

  it('names the file and every problem, and never quotes a hash', async () => {
    const plain = 'hunter2-plaintext';
    const path = await file(
      'bad.yaml',
      JSON.stringify({
        users: [
          { username: 'ada', passwordHash: plain, name: 'Ada', email: 'not-an-email' },
          {
            username: 'ada',
            passwordHash: argon,
            name: 'Ada',
            email: 'a@example.test',
            password: 'x',
          },
          { username: 'cy', passwordHash: argon, email: 'c@example.test' },
        ],
      }),
    );
    const message = await problemOf(path);
    expect(message).toContain(`AUTH_LOCAL_USERS_FILE ${path}`);
    expect(message).toContain('users[0].passwordHash: must be an argon2id');
    expect(message).toContain('users[0].email');
    expect(message).toMatch(/users\[1\].*password/);
    expect(message).toContain('users[2].name');
    expect(message).not.toContain(plain);
    expect(message).not.toContain(argon);
  });

  it('refuses a username given twice', async () => {
    const user = { username: 'ada', passwordHash: argon, name: 'Ada', email: 'ada@example.test' };
    const path = await file('twice.json', JSON.stringify({ users: [user, user] }));
    expect(await problemOf(path)).toContain('users[1].username: duplicate username "ada"');
  });

  it('refuses a file without users', async () => {
    expect(await problemOf(await file('empty.yaml', 'users: []\n'))).toContain('users');
    expect(await problemOf(await file('blank.yaml', ''))).toContain('(top level)');
  });

  it('reports unparsable YAML by position without quoting the file', async () => {
    const message = await problemOf(
      await file('broken.yaml', `users: [ { passwordHash: "${argon}" `),
    );
    expect(message).toContain('broken.yaml');
    expect(message).not.toContain(argon);
  });

  it('reports a file that cannot be read', async () => {
    expect(await problemOf(join(dir, 'missing.yaml'))).toContain('cannot be read (ENOENT)');
  });
});
