import { verify } from 'argon2';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'hash-password.mjs');

const run = (input: string) =>
  spawnSync(process.execPath, [SCRIPT], { input, encoding: 'utf8', timeout: 15000 });

describe('npm run hash-password', () => {
  it('prints an argon2id hash of the piped password, without its trailing newline', async () => {
    const out = run('s3cret pass\n');
    expect(out.status).toBe(0);
    const hash = out.stdout.trim();
    expect(hash).toMatch(/^\$argon2id\$/);
    expect(await verify(hash, 's3cret pass')).toBe(true);
    expect(out.stdout).not.toContain('s3cret');
  });

  it('refuses an empty password', () => {
    const out = run('');
    expect(out.status).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain('the password is empty');
  });
});
