import { MemoryUsageStore } from './memory-usage.store';
import { UsageRecorder } from './usage-recorder';
import { UsageStore, type UsageIncrement } from './usage.store';

/** A store whose server is down: every flush is refused. */
class DownStore extends MemoryUsageStore {
  override add(): Promise<void> {
    return Promise.reject(new Error('Redis did not answer within 1000 ms'));
  }
}

describe('UsageRecorder', () => {
  it('one flush writes every call of the second, by user, team and key', async () => {
    const store = new MemoryUsageStore(90);
    const seen: UsageIncrement[][] = [];
    const add = store.add.bind(store);
    jest.spyOn(store, 'add').mockImplementation((increments, lastUsed) => {
      seen.push([...increments]);
      return add(increments, lastUsed);
    });
    const recorder = new UsageRecorder(store);
    recorder.record('forwarded', 'local:ada', 'red', 'k1');
    recorder.record('forwarded', 'local:ada', 'red', 'k1');
    recorder.record('failed', 'local:ada', 'red', 'k1');
    recorder.record('throttled', 'oidc:bob', undefined, 'k1');
    await recorder.flush();
    await recorder.flush(); // nothing new: no write
    expect(seen).toHaveLength(1);
    const date = new Date().toISOString().slice(0, 10);
    expect(await store.rows('user', [date])).toEqual([
      { name: 'local:ada', date, calls: 3, errors: 1, throttled: 0 },
      { name: 'oidc:bob', date, calls: 0, errors: 0, throttled: 1 },
    ]);
    expect(await store.rows('team', [date])).toEqual([
      { name: 'red', date, calls: 3, errors: 1, throttled: 0 },
    ]);
    expect(await store.rows('key', [date])).toEqual([
      { name: 'k1', date, calls: 3, errors: 1, throttled: 1 },
    ]);
    expect([...(await store.lastUsed()).keys()]).toEqual(['k1']);
  });

  it("counts each call under its own team, key and outcome when a user's calls alternate", async () => {
    const store = new MemoryUsageStore(90);
    const recorder = new UsageRecorder(store);
    for (let i = 0; i < 3; i++) {
      recorder.record('forwarded', 'local:ada', 'red', 'k1');
      recorder.record('forwarded', 'local:ada', 'blue', 'k1');
      recorder.record('forwarded', 'local:ada', 'blue', 'k2');
      recorder.record('failed', 'local:ada', 'blue', 'k2');
    }
    await recorder.flush();
    recorder.record('throttled', 'local:ada', 'red', undefined);
    await recorder.flush();
    const date = new Date().toISOString().slice(0, 10);
    expect(await store.rows('user', [date])).toEqual([
      { name: 'local:ada', date, calls: 12, errors: 3, throttled: 1 },
    ]);
    expect(await store.rows('team', [date])).toEqual([
      { name: 'blue', date, calls: 9, errors: 3, throttled: 0 },
      { name: 'red', date, calls: 3, errors: 0, throttled: 1 },
    ]);
    expect(await store.rows('key', [date])).toEqual([
      { name: 'k1', date, calls: 6, errors: 0, throttled: 0 },
      { name: 'k2', date, calls: 6, errors: 3, throttled: 0 },
    ]);
  });

  it('a store that is down drops the counts without throwing', async () => {
    const store: UsageStore = new DownStore(90);
    const recorder = new UsageRecorder(store);
    recorder.record('forwarded', 'local:ada', undefined, 'k1');
    await expect(recorder.flush()).resolves.toBeUndefined();
  });
});
