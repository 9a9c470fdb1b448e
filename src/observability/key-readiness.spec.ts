import { Logger } from '@nestjs/common';
import type { GatherKeys } from '../keys/gather-keys.service';
import { KeyReadiness } from './key-readiness';
import { Readiness } from './readiness';

describe('KeyReadiness', () => {
  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('registers a "gather-key" check that fails while no usable key is held', async () => {
    const keys = { ready: false };
    const readiness = new Readiness();
    new KeyReadiness(readiness, keys as GatherKeys).onModuleInit();
    expect(await readiness.failing()).toEqual(['gather-key']);
    keys.ready = true;
    expect(await readiness.failing()).toEqual([]);
  });
});
