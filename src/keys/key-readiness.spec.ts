import { Logger } from '@nestjs/common';
import { Readiness } from '../observability/readiness';
import type { GatherKeys } from './gather-keys.service';
import { KeyReadiness } from './key-readiness';

describe('KeyReadiness', () => {
  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('registers a "gather-key" check that fails while no usable key is held', async () => {
    const keys = { ready: false };
    const readiness = new Readiness();
    new KeyReadiness(keys as GatherKeys, readiness).onModuleInit();
    expect(await readiness.failing()).toEqual(['gather-key']);
    keys.ready = true;
    expect(await readiness.failing()).toEqual([]);
  });
});
