import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_DIR } from './start-app';

/**
 * A config/ folder for one suite: the repository's default.yaml, and its test.yaml with `extra`
 * (YAML text) appended — for settings that only the files carry (allow-list, team keys, routes).
 */
export async function configDirWith(extra: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gather-config-'));
  await copyFile(join(CONFIG_DIR, 'default.yaml'), join(dir, 'default.yaml'));
  const testYaml = await readFile(join(CONFIG_DIR, 'test.yaml'), 'utf8');
  await writeFile(join(dir, 'test.yaml'), `${testYaml}\n${extra}\n`);
  return dir;
}
