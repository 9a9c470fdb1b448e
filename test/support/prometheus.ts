import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../src/http/free-port';
import { isRecord } from '../../src/http/is-record';
import { describeWithTool, toolPlan, type RequiredTool, type ToolPlan } from './required-tool';
import { tempDir } from './temp-dir';
import { until } from './until';

/** Set by CI: a missing prometheus or promtool fails these suites instead of skipping them. */
export const REQUIRE_PROMETHEUS = 'GATHER_BFF_REQUIRE_PROMETHEUS';

const PROMETHEUS: RequiredTool = {
  suites: 'Prometheus tests',
  what: "Debian's prometheus and promtool on the PATH",
  install: 'apt-get install prometheus',
  requireVariable: REQUIRE_PROMETHEUS,
};

const runs = (program: string): boolean =>
  spawnSync(program, ['--version'], { stdio: 'ignore' }).status === 0;

/** Whether the Prometheus suites run, are skipped, or fail for want of prometheus or promtool. */
export function prometheusPlan(
  env: Readonly<Record<string, string | undefined>>,
  present: boolean,
): ToolPlan {
  return toolPlan(PROMETHEUS, env, present);
}

/** `describe` for suites that run promtool or a Prometheus server (docs/operations.md). */
export function describeWithPrometheus(name: string, suite: () => void): void {
  describeWithTool(PROMETHEUS, runs('prometheus') && runs('promtool'), name, suite);
}

/** `promtool <args>`: its exit status and everything it wrote. */
export function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** One answer of Prometheus' HTTP API (/api/v1/...). */
export interface ApiAnswer {
  readonly status: 'success' | 'error';
  readonly data?: unknown;
  readonly error?: string;
}

/** An instant vector's series: labels and value. */
export interface Sample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export interface RunningPrometheus {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** GET /api/v1/<path> with `params`; an HTTP error's JSON answer is returned, not thrown. */
  api(path: string, params?: Record<string, string>): Promise<ApiAnswer>;
  /** The instant query `expr` now: its series, or the API's error as a thrown Error. */
  query(expr: string): Promise<Sample[]>;
  stop(): Promise<void>;
}

/** What to scrape and evaluate: one job, every second. */
export interface PrometheusSetup {
  readonly job: string;
  /** `host:port` of each target's /metrics. */
  readonly targets: readonly string[];
  /** Absolute paths of rule files to load. */
  readonly ruleFiles?: readonly string[];
}

/**
 * A `prometheus` server on a free loopback port with its own config and storage in a temp
 * folder, scraping `setup.targets` and evaluating the rules every second; resolves once ready.
 */
export async function startPrometheus(setup: PrometheusSetup): Promise<RunningPrometheus> {
  const dir = await tempDir('gather-prometheus-');
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    stringify({
      // The scrape timeout may not exceed the interval; 1 s is plenty on loopback.
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: setup.ruleFiles ?? [],
      scrape_configs: [{ job_name: setup.job, static_configs: [{ targets: setup.targets }] }],
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  };

  const api = async (path: string, params: Record<string, string> = {}): Promise<ApiAnswer> => {
    const res = await fetch(`${url}/api/v1/${path}?${new URLSearchParams(params).toString()}`);
    const body: unknown = await res.json();
    if (!isRecord(body) || (body.status !== 'success' && body.status !== 'error')) {
      throw new Error(`Prometheus answered ${res.status} with no API answer`);
    }
    return body as unknown as ApiAnswer;
  };
  const query = async (expr: string): Promise<Sample[]> => {
    const answer = await api('query', { query: expr });
    if (answer.status !== 'success') throw new Error(`${expr}: ${answer.error ?? 'error'}`);
    const data = answer.data;
    if (!isRecord(data) || data.resultType !== 'vector' || !Array.isArray(data.result)) {
      throw new Error(`${expr}: not an instant vector`);
    }
    return data.result as Sample[];
  };

  try {
    await until(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
        return fetch(`${url}/-/ready`).then(
          (res) => res.status === 200,
          () => false,
        );
      },
      30_000,
      100,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, api, query, stop };
}
