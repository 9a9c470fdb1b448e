import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../../test/support/temp-dir';
import { ConfigError, loadConfig, type Env } from './load-config';
import { FILE_SECRETS, secretsFromFiles } from './secret-settings';

const CONFIG_DIR = join(__dirname, '..', '..', 'config');
const KEY = 'qapi_unitTestKey0123456789';
const SECRET = 'Zq3v9N1xK8pW2mR7tY4bL6cH0dF5gJ3s';
/** What each file holds in these tests: a value no message may ever show. */
const HELD = 'held-in-the-file-9f8e7d6c5b4a39281706';

function problemsOf(env: Env): readonly string[] {
  try {
    loadConfig(env, CONFIG_DIR);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('secret settings from files (<NAME>_FILE)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('secret-settings-');
    await writeFile(join(dir, 'held'), `  ${HELD}\n`);
    await writeFile(join(dir, 'blank'), ' \n\t\n');
    await mkdir(join(dir, 'a-folder'));
  });

  describe.each(FILE_SECRETS)('%s', (name) => {
    const fileName = `${name}_FILE`;

    it('is read from the file, without its surrounding whitespace', () => {
      const problems: string[] = [];
      expect(secretsFromFiles({ [fileName]: join(dir, 'held') }, problems)).toEqual({
        [name]: HELD,
      });
      expect(problems).toEqual([]);
    });

    it('given both ways, is refused naming both and neither value', () => {
      const problems: string[] = [];
      expect(secretsFromFiles({ [name]: SECRET, [fileName]: join(dir, 'held') }, problems)).toEqual(
        {},
      );
      expect(problems).toEqual([`${name} and ${fileName} are both set: set one of them`]);
    });

    it('from an empty or whitespace-only file, is refused naming the setting and the path', () => {
      const problems: string[] = [];
      secretsFromFiles({ [fileName]: join(dir, 'blank') }, problems);
      expect(problems).toEqual([`${fileName}=${join(dir, 'blank')}: is empty`]);
    });

    it('from a missing or unreadable file, is refused naming the setting, the path and why', () => {
      const problems: string[] = [];
      secretsFromFiles({ [fileName]: join(dir, 'missing') }, problems);
      secretsFromFiles({ [fileName]: join(dir, 'a-folder') }, problems);
      expect(problems).toEqual([
        `${fileName}=${join(dir, 'missing')}: file not found`,
        `${fileName}=${join(dir, 'a-folder')}: cannot read (EISDIR)`,
      ]);
    });

    it('counts an empty variable as unset', () => {
      const problems: string[] = [];
      expect(secretsFromFiles({ [name]: '', [fileName]: join(dir, 'held') }, problems)).toEqual({
        [name]: HELD,
      });
      expect(secretsFromFiles({ [name]: SECRET, [fileName]: '' }, problems)).toEqual({});
      expect(problems).toEqual([]);
    });
  });

  it('does not echo a "path" that may be the secret itself', () => {
    const problems: string[] = [];
    secretsFromFiles({ ADMIN_TOKEN_FILE: HELD }, problems);
    expect(problems).toEqual([
      'ADMIN_TOKEN_FILE=(not shown: it holds no "/", is it the secret itself?): file not found',
    ]);
  });

  it('lands where the variable would, and the file wins nothing over the YAML it replaces', async () => {
    const file = async (name: string, text: string) => {
      await writeFile(join(dir, name), `${text}\n`);
      return join(dir, name);
    };
    const config = loadConfig(
      {
        GATHER_API_KEY: KEY,
        SESSION_SECRET_FILE: await file('session', `${SECRET},${SECRET}-old`),
        ADMIN_TOKEN_FILE: await file('admin', HELD),
        REDIS_URL_FILE: await file('redis-url', 'redis://redis.internal:6379'),
        REDIS_PASSWORD_FILE: await file('redis-password', HELD),
        OIDC_ISSUER_URL: 'https://id.example.com',
        OIDC_CLIENT_ID: 'gather-bff',
        OIDC_CLIENT_SECRET_FILE: await file('oidc', HELD),
      },
      CONFIG_DIR,
    );
    expect(config.session.secrets).toEqual([SECRET, `${SECRET}-old`]);
    expect(config.metrics.adminToken).toBe(HELD);
    expect(config.session.redisUrl).toBe('redis://redis.internal:6379');
    expect(config.session.redisPassword).toBe(HELD);
    expect(config.auth.oidc?.clientSecret).toBe(HELD);
  });

  it('reports every file problem with the others, in one message that holds no value', () => {
    const problems = problemsOf({
      GATHER_API_KEY: KEY,
      SESSION_SECRET: SECRET,
      SESSION_SECRET_FILE: join(dir, 'held'),
      ADMIN_TOKEN_FILE: join(dir, 'blank'),
      PORT: 'not-a-port',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'SESSION_SECRET and SESSION_SECRET_FILE are both set: set one of them',
        `ADMIN_TOKEN_FILE=${join(dir, 'blank')}: is empty`,
      ]),
    );
    expect(problems.some((p) => p.startsWith('PORT'))).toBe(true);
    expect(problems.join('\n')).not.toContain(HELD);
    expect(problems.join('\n')).not.toContain(SECRET);
  });
});
