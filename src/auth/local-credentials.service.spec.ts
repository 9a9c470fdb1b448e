import { ConfigService } from '@nestjs/config';
import { argon2id, hash } from 'argon2';
import { hash as bcryptHash } from 'bcrypt';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCredentials } from './local-credentials.service';

const ARGON2ID_LIGHT = { type: argon2id, memoryCost: 8192, timeCost: 2, parallelism: 1 } as const;

const credentialsFor = (localUsersFile?: string): LocalCredentials =>
  new LocalCredentials(new ConfigService({ auth: { localUsersFile } }));

describe('LocalCredentials', () => {
  let dir: string;
  let credentials: LocalCredentials;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-credentials-'));
    const users = [
      {
        username: 'ada',
        passwordHash: await hash('right', ARGON2ID_LIGHT),
        name: 'Ada',
        email: 'ada@example.test',
        team: 't1',
      },
      {
        username: 'bob',
        passwordHash: await hash('bobs', ARGON2ID_LIGHT),
        name: 'Bob',
        email: 'bob@example.test',
      },
    ];
    const file = join(dir, 'users.json');
    await writeFile(file, JSON.stringify({ users }));
    credentials = credentialsFor(file);
    await credentials.onModuleInit();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('returns the session user for the right password; its id is the username', async () => {
    await expect(credentials.verify('ada', 'right')).resolves.toEqual({
      id: 'ada',
      name: 'Ada',
      email: 'ada@example.test',
      team: 't1',
    });
    await expect(credentials.verify('bob', 'bobs')).resolves.toEqual({
      id: 'bob',
      name: 'Bob',
      email: 'bob@example.test',
    });
  });

  it('refuses a wrong password, another user’s password and an unknown user alike', async () => {
    await expect(credentials.verify('ada', 'wrong')).resolves.toBeUndefined();
    await expect(credentials.verify('ada', 'bobs')).resolves.toBeUndefined();
    await expect(credentials.verify('Ada', 'right')).resolves.toBeUndefined();
    await expect(credentials.verify('nobody', '')).resolves.toBeUndefined();
    await expect(credentials.verify('__proto__', 'right')).resolves.toBeUndefined();
  });

  it('checks a user with a cheaper hash than the slowest against their own hash', async () => {
    // bcrypt at cost 4, written as PHP's $2y$, beside argon2id: carol also checks the decoy.
    const carol = {
      username: 'carol',
      passwordHash: (await bcryptHash('carols', 4)).replace('$2b$', '$2y$'),
      name: 'Carol',
      email: 'carol@example.test',
    };
    const dana = {
      ...carol,
      username: 'dana',
      passwordHash: await hash('danas', ARGON2ID_LIGHT),
    };
    const file = join(dir, 'mixed.json');
    await writeFile(file, JSON.stringify({ users: [carol, dana] }));
    const mixed = credentialsFor(file);
    await mixed.onModuleInit();
    await expect(mixed.verify('carol', 'carols')).resolves.toMatchObject({ id: 'carol' });
    await expect(mixed.verify('dana', 'danas')).resolves.toMatchObject({ id: 'dana' });
    await expect(mixed.verify('carol', 'danas')).resolves.toBeUndefined();
    await expect(mixed.verify('dana', 'carols')).resolves.toBeUndefined();
    await expect(mixed.verify('nobody', 'carols')).resolves.toBeUndefined();
  });

  it('loads nothing without a users file', async () => {
    const none = credentialsFor(undefined);
    await none.onModuleInit();
    await expect(none.verify('ada', 'right')).resolves.toBeUndefined();
  });

  it('fails start-up on a bad file', async () => {
    await expect(credentialsFor(join(dir, 'missing.json')).onModuleInit()).rejects.toThrow(
      /AUTH_LOCAL_USERS_FILE .*missing\.json: cannot be read/,
    );
  });
});
