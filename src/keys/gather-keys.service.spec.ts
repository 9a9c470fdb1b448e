import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { join } from 'node:path';
import type { AppConfig, KeySourceConfig } from '../config/config.schema';
import { loadConfig, type Env } from '../config/load-config';
import { BffError } from '../http/error-codes';
import { Metrics } from '../observability/metrics.service';
import { GatherKeys, KEY_READ_DEADLINE_MS, type HeldKey } from './gather-keys.service';
import { fingerprint } from '../config/key-format';
import { KeySourceFactory } from './key-source.factory';
import { KeyLoadError, KeySource, KeySourceError } from './key-source';

const MAIN = 'qapi_mainKEY0123456789abcdefXYZ';
const MAIN_2 = 'qapi_mainKEY0123456789abcdefXYZ-rotated';
const READONLY = 'qapi_readKEY0123456789abcdefXYZ';
const TEAM_A = 'qapi_teamAKEY0123456789abcdefXY';
const TEAM_B = 'qapi_teamBKEY0123456789abcdefXY';

/** A source the test drives: its value (or failure), whether reads wait, how often it was read. */
class FakeSource extends KeySource {
  reads = 0;
  /** While set, every read waits for it. */
  gate: Promise<void> | undefined;

  constructor(
    readonly name: string,
    public value: string | Error,
    readonly reloadable = true,
  ) {
    super();
  }

  get description(): string {
    return `${this.name}=fake`;
  }

  async load(): Promise<string> {
    this.reads += 1;
    if (this.gate) await this.gate;
    if (this.value instanceof Error) throw new KeySourceError(this, this.value.message);
    return this.value;
  }
}

/** The real factory, except that the sources named in `fakes` are the test's. */
class FakeFactory extends KeySourceFactory {
  constructor(
    config: ConfigService<AppConfig, true>,
    private readonly fakes: Record<string, KeySource>,
  ) {
    super(config);
  }

  override create(config: KeySourceConfig): KeySource {
    return this.fakes[config.name] ?? super.create(config);
  }
}

const file = (name: string): KeySourceConfig => ({ kind: 'file', name, path: '/unused' });

interface Setup {
  env?: Env;
  readonly?: boolean;
  teams?: string[];
  requireTeamKey?: boolean;
  sources?: FakeSource[];
}

function build(setup: Setup = {}): { keys: GatherKeys; metrics: Metrics } {
  const base = loadConfig(
    {
      APP_ENV: 'test',
      SESSION_SECRET: 'k3J9xQ2mV8pL4wR7tY1uZ6nB5cD0fG3hJ',
      GATHER_API_KEY_FILE: '/unused',
      ...(setup.readonly ? { GATHER_READONLY_API_KEY_FILE: '/unused' } : {}),
      ...setup.env,
    },
    join(__dirname, '..', '..', 'config'),
  );
  const config: AppConfig = {
    ...base,
    gather: {
      ...base.gather,
      teamKeys: Object.fromEntries(
        (setup.teams ?? []).map((t) => [t, file(`gather.teamKeys.${t}`)]),
      ),
      requireTeamKey: setup.requireTeamKey ?? false,
    },
  };
  const service = new ConfigService<AppConfig, true>(config);
  const fakes = Object.fromEntries((setup.sources ?? []).map((s) => [s.name, s]));
  const metrics = new Metrics();
  return { keys: new GatherKeys(service, new FakeFactory(service, fakes), metrics), metrics };
}

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof BffError ? `${err.status} ${err.code}: ${err.message}` : String(err);
  }
  return undefined;
};

describe('GatherKeys', () => {
  let logs: { level: string; args: unknown[] }[];
  beforeEach(() => {
    logs = [];
    for (const level of ['log', 'warn', 'error'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => {
        logs.push({ level, args });
      });
    }
  });
  afterEach(() => jest.restoreAllMocks());

  describe('keyFor', () => {
    const main = (): FakeSource => new FakeSource('GATHER_API_KEY_FILE', MAIN);

    it('uses the read-only key for GET and HEAD and the main key for every other method', async () => {
      const { keys } = build({
        readonly: true,
        sources: [main(), new FakeSource('GATHER_READONLY_API_KEY_FILE', READONLY)],
      });
      await keys.onModuleInit();
      const valueFor = (method: string): string => keys.keyFor({ method }).value;
      expect(valueFor('GET')).toBe(READONLY);
      expect(valueFor('HEAD')).toBe(READONLY);
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) expect(valueFor(method)).toBe(MAIN);
      await keys.onModuleDestroy();
    });

    it('uses the main key for every method without a read-only key', async () => {
      const { keys } = build({ sources: [main()] });
      await keys.onModuleInit();
      for (const method of ['GET', 'HEAD', 'POST', 'DELETE']) {
        expect(keys.keyFor({ method })).toEqual({ value: MAIN, fingerprint: fingerprint(MAIN) });
      }
      await keys.onModuleDestroy();
    });

    it('gives users of two mapped teams their own keys for every method, others the default', async () => {
      const { keys } = build({
        readonly: true,
        teams: ['team-a', 'team-b'],
        sources: [
          main(),
          new FakeSource('GATHER_READONLY_API_KEY_FILE', READONLY),
          new FakeSource('gather.teamKeys.team-a', TEAM_A),
          new FakeSource('gather.teamKeys.team-b', TEAM_B),
        ],
      });
      await keys.onModuleInit();
      for (const method of ['GET', 'HEAD', 'POST']) {
        expect(keys.keyFor({ method, team: 'team-a' }).value).toBe(TEAM_A);
        expect(keys.keyFor({ method, team: 'team-b' }).value).toBe(TEAM_B);
      }
      expect(keys.keyFor({ method: 'POST', team: 'team-c' }).value).toBe(MAIN);
      expect(keys.keyFor({ method: 'GET', team: 'team-c' }).value).toBe(READONLY);
      expect(keys.keyFor({ method: 'POST' }).value).toBe(MAIN);
      // A team name that is a property of every object is still an unmapped team.
      expect(keys.keyFor({ method: 'POST', team: 'constructor' }).value).toBe(MAIN);
      await keys.onModuleDestroy();
    });

    it('refuses users without a mapped team with ROUTE_NOT_ALLOWED when requireTeamKey is set', async () => {
      const { keys } = build({
        teams: ['team-a'],
        requireTeamKey: true,
        sources: [main(), new FakeSource('gather.teamKeys.team-a', TEAM_A)],
      });
      await keys.onModuleInit();
      expect(keys.keyFor({ method: 'GET', team: 'team-a' }).value).toBe(TEAM_A);
      const refused = '403 ROUTE_NOT_ALLOWED: No Gather key for your team';
      expect(codeOf(() => keys.keyFor({ method: 'GET', team: 'team-b' }))).toBe(refused);
      expect(codeOf(() => keys.keyFor({ method: 'POST' }))).toBe(refused);
      await keys.onModuleDestroy();
    });

    it('answers SERVICE_UNAVAILABLE and is not ready while no key is held', async () => {
      const { keys } = build({ sources: [main()] });
      expect(keys.ready).toBe(false);
      expect(codeOf(() => keys.keyFor({ method: 'GET' }))).toBe(
        '503 SERVICE_UNAVAILABLE: Service unavailable',
      );
      await keys.onModuleInit();
      expect(keys.ready).toBe(true);
      await keys.onModuleDestroy();
    });

    it('hands out the same object for every request until the key changes', async () => {
      const { keys } = build({ sources: [main()] });
      await keys.onModuleInit();
      expect(keys.keyFor({ method: 'GET' })).toBe(keys.keyFor({ method: 'POST' }));
      await keys.onModuleDestroy();
    });
  });

  describe('start-up', () => {
    it('refuses to start listing every key that failed, by source and cause, never a value', async () => {
      const { keys } = build({
        readonly: true,
        teams: ['team-a'],
        sources: [
          new FakeSource('GATHER_API_KEY_FILE', new Error('secret not found')),
          new FakeSource('GATHER_READONLY_API_KEY_FILE', 'not-a-key-value'),
          new FakeSource('gather.teamKeys.team-a', TEAM_A),
        ],
      });
      const err = (await keys.onModuleInit().catch((e: unknown) => e)) as KeyLoadError;
      expect(err).toBeInstanceOf(KeyLoadError);
      expect(err.message).toBe(
        [
          'Gather keys could not be loaded:',
          '  - GATHER_API_KEY_FILE=fake: secret not found',
          `  - GATHER_READONLY_API_KEY_FILE=fake: not a Gather API key (expected qapi_ and 16 or more of A-Z a-z 0-9 _ -); fingerprint ${fingerprint('not-a-key-value')}`,
        ].join('\n'),
      );
      expect(err.message).not.toContain('not-a-key-value');
      expect(keys.ready).toBe(false);
    });

    it('refuses an example-looking key read from a source when APP_ENV=production', async () => {
      const example = 'qapi_example0123456789abcdef';
      const { keys } = build({
        env: {
          APP_ENV: 'production',
          COOKIE_SECURE: 'true',
          PUBLIC_URL: 'https://bff.example.org',
        },
        sources: [new FakeSource('GATHER_API_KEY_FILE', example)],
      });
      await expect(keys.onModuleInit()).rejects.toThrow(
        `GATHER_API_KEY_FILE=fake: looks like an example key, refused when APP_ENV=production; fingerprint ${fingerprint(example)}`,
      );
    });

    it('gives up on a source that does not answer within the start-up bound', async () => {
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
      try {
        const hung = new FakeSource('GATHER_API_KEY_FILE', MAIN);
        hung.gate = new Promise(() => undefined);
        const { keys } = build({ sources: [hung] });
        const outcome = keys.onModuleInit().catch((e: unknown) => e);
        await jest.advanceTimersByTimeAsync(KEY_READ_DEADLINE_MS);
        expect(((await outcome) as Error).message).toBe(
          'Gather keys could not be loaded:\n  - GATHER_API_KEY_FILE=fake: no answer within 10 s',
        );
      } finally {
        jest.useRealTimers();
      }
    });

    it('logs every loaded key by fingerprint and source only', async () => {
      const { keys } = build({ sources: [new FakeSource('GATHER_API_KEY_FILE', MAIN)] });
      await keys.onModuleInit();
      expect(logs).toEqual([
        {
          level: 'log',
          args: [
            { key: fingerprint(MAIN), source: 'GATHER_API_KEY_FILE=fake' },
            'Gather key loaded',
          ],
        },
      ]);
      await keys.onModuleDestroy();
    });
  });

  describe('reloadAfterRejection', () => {
    /** The request whose 401 led to the reload. */
    const CAUSE = { requestId: 'req-1' };
    let source: FakeSource;
    let keys: GatherKeys;
    let metrics: Metrics;
    let held: HeldKey;

    beforeEach(async () => {
      source = new FakeSource('GATHER_API_KEY_FILE', MAIN);
      ({ keys, metrics } = build({ sources: [source] }));
      await keys.onModuleInit();
      held = keys.keyFor({ method: 'GET' });
      source.reads = 0;
    });
    afterEach(() => keys.onModuleDestroy());

    it('reads the source once for 20 concurrent callers and gives each the new key', async () => {
      let open!: () => void;
      source.gate = new Promise((resolve) => (open = resolve));
      source.value = MAIN_2;
      const calls = Array.from({ length: 20 }, () => keys.reloadAfterRejection(held, CAUSE));
      open();
      const results = await Promise.all(calls);
      expect(source.reads).toBe(1);
      expect(new Set(results).size).toBe(1);
      expect(results[0]).toEqual({ value: MAIN_2, fingerprint: fingerprint(MAIN_2) });
      expect(keys.keyFor({ method: 'POST' }).value).toBe(MAIN_2);
    });

    it('resolves undefined, after one read, when the source still holds the refused key', async () => {
      let open!: () => void;
      source.gate = new Promise((resolve) => (open = resolve));
      const calls = Array.from({ length: 20 }, () => keys.reloadAfterRejection(held, CAUSE));
      open();
      expect(await Promise.all(calls)).toEqual(Array.from({ length: 20 }, () => undefined));
      expect(source.reads).toBe(1);
    });

    it('answers a key already replaced with its replacement, without another read', async () => {
      source.value = MAIN_2;
      const fresh = await keys.reloadAfterRejection(held, CAUSE);
      expect(await keys.reloadAfterRejection(held, CAUSE)).toBe(fresh);
      expect(source.reads).toBe(1);
    });

    it('keeps the last good key, logs by fingerprint and counts a failed reload', async () => {
      source.value = new Error('permission denied (HTTP 403)');
      expect(await keys.reloadAfterRejection(held, CAUSE)).toBeUndefined();
      expect(keys.keyFor({ method: 'GET' })).toBe(held);
      expect(keys.ready).toBe(true);
      expect(logs.filter((l) => l.level === 'warn')).toEqual([
        {
          level: 'warn',
          args: [
            {
              key: fingerprint(MAIN),
              source: 'GATHER_API_KEY_FILE=fake',
              cause: 'GATHER_API_KEY_FILE=fake: permission denied (HTTP 403)',
            },
            'Gather key reload failed; keeping the last good key',
          ],
        },
      ]);
      expect(await metrics.text()).toContain(
        'gather_key_reload_failures_total{source="GATHER_API_KEY_FILE"} 1',
      );
    });

    it('says a key file emptied since is empty, and keeps the last good key', async () => {
      source.value = '';
      expect(await keys.reloadAfterRejection(held, CAUSE)).toBeUndefined();
      expect(keys.keyFor({ method: 'GET' })).toBe(held);
      expect(logs.filter((l) => l.level === 'warn').map((l) => l.args[0])).toEqual([
        expect.objectContaining({ cause: 'GATHER_API_KEY_FILE=fake: is empty' }),
      ]);
    });

    it('treats a reloaded value that is not a qapi_ key as a failed reload', async () => {
      source.value = 'garbage-from-a-half-written-file';
      expect(await keys.reloadAfterRejection(held, CAUSE)).toBeUndefined();
      expect(keys.keyFor({ method: 'GET' })).toBe(held);
      expect(JSON.stringify(logs)).not.toContain('garbage-from-a-half-written-file');
      expect(await metrics.text()).toContain(
        'gather_key_reload_failures_total{source="GATHER_API_KEY_FILE"} 1',
      );
    });

    it('does not read an environment key again: it cannot change', async () => {
      const env = new FakeSource('GATHER_API_KEY', MAIN, false);
      const built = build({
        env: { GATHER_API_KEY: MAIN, GATHER_API_KEY_FILE: '' },
        sources: [env],
      });
      await built.keys.onModuleInit();
      expect(
        await built.keys.reloadAfterRejection(built.keys.keyFor({ method: 'GET' }), CAUSE),
      ).toBeUndefined();
      expect(env.reads).toBe(1);
      await built.keys.onModuleDestroy();
    });

    it('resolves undefined for a key it never handed out', async () => {
      expect(
        await keys.reloadAfterRejection({ value: MAIN, fingerprint: fingerprint(MAIN) }, CAUSE),
      ).toBeUndefined();
      expect(source.reads).toBe(0);
    });

    it('reloads the source of the refused key only (a team key)', async () => {
      const team = new FakeSource('gather.teamKeys.team-a', TEAM_A);
      const main = new FakeSource('GATHER_API_KEY_FILE', MAIN);
      const built = build({ teams: ['team-a'], sources: [main, team] });
      await built.keys.onModuleInit();
      team.value = `${TEAM_A}-new`;
      const fresh = await built.keys.reloadAfterRejection(
        built.keys.keyFor({ method: 'GET', team: 'team-a' }),
        CAUSE,
      );
      expect(fresh?.value).toBe(`${TEAM_A}-new`);
      expect([main.reads, team.reads]).toEqual([1, 2]);
      await built.keys.onModuleDestroy();
    });
  });

  describe('periodic reload', () => {
    beforeEach(() => {
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    });
    afterEach(() => jest.useRealTimers());

    it('re-reads file and secret-manager keys every GATHER_API_KEY_REFRESH_SECONDS, not env keys', async () => {
      const main = new FakeSource('GATHER_API_KEY_FILE', MAIN);
      const team = new FakeSource('gather.teamKeys.team-a', TEAM_A, false);
      const { keys, metrics } = build({
        env: { GATHER_API_KEY_REFRESH_SECONDS: '60' },
        teams: ['team-a'],
        sources: [main, team],
      });
      await keys.onModuleInit();
      main.value = MAIN_2;
      await jest.advanceTimersByTimeAsync(59_000);
      expect(keys.keyFor({ method: 'GET' }).value).toBe(MAIN);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(keys.keyFor({ method: 'GET' }).value).toBe(MAIN_2);
      await jest.advanceTimersByTimeAsync(60_000);
      expect([main.reads, team.reads]).toEqual([3, 1]);
      expect(logs.map((l) => l.args[1])).toContain('audit: key.rotated');
      // Two re-reads, one of them a rotation; every key held has its counters from the start.
      const text = await metrics.text();
      expect(text).toContain('gather_key_reloads_total{source="GATHER_API_KEY_FILE"} 2');
      expect(text).toContain('gather_key_rotations_total{source="GATHER_API_KEY_FILE"} 1');
      expect(text).toContain('gather_key_reloads_total{source="gather.teamKeys.team-a"} 0');
      for (const key of [MAIN, MAIN_2, TEAM_A]) {
        expect(text).toContain(`gather_upstream_throttled_total{key="${fingerprint(key)}"} 0`);
      }
      await keys.onModuleDestroy();
    });

    it('keeps the last good key when a periodic reload fails, and counts it', async () => {
      const main = new FakeSource('GATHER_API_KEY_FILE', MAIN);
      const { keys, metrics } = build({ sources: [main] });
      await keys.onModuleInit();
      main.value = new Error('file not found');
      await jest.advanceTimersByTimeAsync(300_000);
      expect(keys.keyFor({ method: 'GET' }).value).toBe(MAIN);
      expect(await metrics.text()).toContain(
        'gather_key_reload_failures_total{source="GATHER_API_KEY_FILE"} 1',
      );
      await keys.onModuleDestroy();
    });

    it('does not spin on a refresh interval longer than a timer can hold', async () => {
      const main = new FakeSource('GATHER_API_KEY_FILE', MAIN);
      const { keys } = build({
        env: { GATHER_API_KEY_REFRESH_SECONDS: String(100 * 24 * 3600) },
        sources: [main],
      });
      await keys.onModuleInit();
      await jest.advanceTimersByTimeAsync(60_000);
      expect(main.reads).toBe(1);
      await keys.onModuleDestroy();
    });

    it('stops reloading when the module is destroyed', async () => {
      const main = new FakeSource('GATHER_API_KEY_FILE', MAIN);
      const { keys } = build({ sources: [main] });
      await keys.onModuleInit();
      await keys.onModuleDestroy();
      await jest.advanceTimersByTimeAsync(900_000);
      expect(main.reads).toBe(1);
      expect(jest.getTimerCount()).toBe(0);
    });
  });
});
