import { Logger } from '@nestjs/common';
import { Readiness } from '../http/readiness';
import { keyReadiness } from './key-readiness';

describe('keyReadiness', () => {
  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('registers a "gather-key" check that fails while no usable key is held', async () => {
    const keys = { ready: false };
    const readiness = new Readiness();
    await keyReadiness.useFactory(keys, readiness);
    expect(await readiness.failing()).toEqual(['gather-key']);
    keys.ready = true;
    expect(await readiness.failing()).toEqual([]);
  });
});
