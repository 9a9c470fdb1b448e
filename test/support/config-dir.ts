import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONFIG_DIR } from './start-app';
import { tempDir } from './temp-dir';

/**
 * A config/ folder for one suite: the repository's default.yaml, and its test.yaml with `extra`
 * (YAML text) appended — for settings that only the files carry (allow-list, team keys, routes).
 * The folder is removed when the test file ends.
 */
export async function configDirWith(extra: string): Promise<string> {
  const dir = await tempDir('gather-config-');
  await copyFile(join(CONFIG_DIR, 'default.yaml'), join(dir, 'default.yaml'));
  const testYaml = await readFile(join(CONFIG_DIR, 'test.yaml'), 'utf8');
  await writeFile(join(dir, 'test.yaml'), `${testYaml}\n${extra}\n`);
  return dir;
}
