import { quotasSchema } from '../config/quotas';
import { MemoryQuotaStore } from './memory-quota.store';
import { quotasFor } from './quota-plan';

const NOW = new Date('2026-12-07T10:00:00Z');
const config = quotasSchema.parse({ user: { day: 3 }, team: { day: 4 } });

describe('MemoryQuotaStore', () => {
  it('counts every quota of a call, and none when one is used up', async () => {
    const store = new MemoryQuotaStore(100);
    const ada = quotasFor(config, 'local:ada', 'red', NOW);
    const bob = quotasFor(config, 'local:bob', 'red', NOW);
    const results: (string | undefined)[] = [];
    for (const quotas of [ada, ada, ada, ada, bob, bob]) {
      results.push((await store.take(quotas)).refused?.name ?? 'ok');
    }
    // ada: 3 of her own; bob: the team's fourth, then the team is used up.
    expect(results).toEqual(['ok', 'ok', 'ok', 'user-day', 'ok', 'team-day']);
    expect((await store.read(bob)).map((u) => [u.quota.name, u.used])).toEqual([
      ['user-day', 1],
      ['team-day', 4],
    ]);
  });

  it('a new day is a new counter', async () => {
    const store = new MemoryQuotaStore(100);
    await store.take(quotasFor(config, 'local:ada', undefined, NOW));
    const tomorrow = quotasFor(config, 'local:ada', undefined, new Date('2026-12-08T00:00:00Z'));
    expect((await store.read(tomorrow))[0]?.used).toBe(0);
  });
});
