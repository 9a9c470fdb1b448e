import { Logger } from '@nestjs/common';
import { CHECK_TIMEOUT_MS, Readiness } from './readiness';

describe('Readiness', () => {
  let warn: jest.SpiedFunction<Logger['warn']>;
  let log: jest.SpiedFunction<Logger['log']>;
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('is ready with no checks and with passing checks', async () => {
    const readiness = new Readiness();
    expect(await readiness.failing()).toEqual([]);
    readiness.register('a', () => Promise.resolve());
    expect(await readiness.failing()).toEqual([]);
  });

  it('names every registered check, in registration order', () => {
    const readiness = new Readiness();
    readiness.register('gather-key', () => Promise.resolve());
    readiness.register('session-store', () => Promise.reject(new Error('down')));
    expect(readiness.names()).toEqual(['gather-key', 'session-store']);
  });

  it('names every failing check, in registration order, whether it rejects or throws', async () => {
    const readiness = new Readiness();
    readiness.register('session-store', () => Promise.reject(new Error('ECONNREFUSED 10.0.0.7')));
    readiness.register('gather-key', () => Promise.resolve());
    readiness.register('rate-limit-store', () => {
      throw new Error('boom');
    });
    expect(await readiness.failing()).toEqual(['session-store', 'rate-limit-store']);
  });

  it('fails a check that does not answer within its deadline', async () => {
    jest.useFakeTimers();
    const readiness = new Readiness();
    readiness.register('hangs', () => new Promise<void>(() => undefined));
    readiness.register('fine', () => Promise.resolve());
    const result = readiness.failing();
    await jest.advanceTimersByTimeAsync(CHECK_TIMEOUT_MS);
    expect(await result).toEqual(['hangs']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('follows a check that recovers', async () => {
    const readiness = new Readiness();
    let up = false;
    readiness.register('store', () => (up ? Promise.resolve() : Promise.reject(new Error('down'))));
    expect(await readiness.failing()).toEqual(['store']);
    up = true;
    expect(await readiness.failing()).toEqual([]);
  });

  it('logs the state when it changes, in one line for every check failing, not on every probe', async () => {
    const readiness = new Readiness();
    let up = false;
    const store = () => (up ? Promise.resolve() : Promise.reject(new Error('down')));
    readiness.register('store', store);
    readiness.register('limits', store);
    await readiness.failing();
    await readiness.failing();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(
      { failing: ['store', 'limits'], reasons: { store: 'down', limits: 'down' } },
      'not ready',
    );
    up = true;
    await readiness.failing();
    await readiness.failing();
    expect(log).toHaveBeenCalledTimes(1);
    expect(log).toHaveBeenCalledWith({ wasFailing: ['store', 'limits'] }, 'ready again');
    up = false;
    await readiness.failing();
    expect(warn).toHaveBeenCalledTimes(2);
  });

  it('refuses a second check under the same name', () => {
    const readiness = new Readiness();
    readiness.register('store', () => Promise.resolve());
    expect(() => readiness.register('store', () => Promise.resolve())).toThrow(
      /already registered/,
    );
  });

  it('reports shutting down once the shutdown hook ran', () => {
    const readiness = new Readiness();
    expect(readiness.shuttingDown).toBe(false);
    readiness.beforeApplicationShutdown();
    expect(readiness.shuttingDown).toBe(true);
  });
});
