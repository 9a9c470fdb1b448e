import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../../test/support/temp-dir';
import { FileKeySource } from './file-key-source';

const KEY = 'qapi_fileKeySource0123456789';

/** Key files are read as every secret file is (src/config/secret-file.ts). */
describe('FileKeySource', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('file-key-source-');
    await writeFile(join(dir, 'key'), `\n${KEY}\n`);
    await writeFile(join(dir, 'blank'), '\n \n');
  });

  it('reads the key without its surrounding whitespace', async () => {
    await expect(new FileKeySource('GATHER_API_KEY_FILE', join(dir, 'key')).load()).resolves.toBe(
      KEY,
    );
  });

  it('says an empty file is empty, naming the setting and the path', async () => {
    const path = join(dir, 'blank');
    await expect(new FileKeySource('GATHER_API_KEY_FILE', path).load()).rejects.toThrow(
      `GATHER_API_KEY_FILE=${path}: is empty`,
    );
  });

  it('says a missing file is not found', async () => {
    const path = join(dir, 'missing');
    await expect(new FileKeySource('GATHER_API_KEY_FILE', path).load()).rejects.toThrow(
      `GATHER_API_KEY_FILE=${path}: file not found`,
    );
  });
});
