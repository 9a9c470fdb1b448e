import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metrics } from '../src/observability/metrics.service';
import {
  variablesTheConfigurationReads,
  variablesTheSourceNames,
} from './support/config-variables';

/**
 * docs/configuration.md is where an operator looks a setting up: every variable the code reads
 * is there, written as code (`NAME`).
 */
const ROOT = join(__dirname, '..');
const page = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
const documented = new Set([...page.matchAll(/`([A-Z][A-Z0-9_]+)(?:=[^`]*)?`/g)].map((m) => m[1]));

describe('docs/configuration.md', () => {
  const configuration = [...variablesTheConfigurationReads()].sort();
  const source = [...variablesTheSourceNames()].sort();

  it('finds the variables the way the code reads them', () => {
    expect(configuration).toEqual(
      expect.arrayContaining(['APP_ENV', 'GATHER_API_KEY_FILE', 'SESSION_SECRET_FILE', 'PORT']),
    );
    expect(source).toEqual(expect.arrayContaining(['OTEL_BSP_MAX_QUEUE_SIZE']));
  });

  it('documents every variable the configuration reads', () => {
    expect(configuration.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('documents every other variable src/ names (the OpenTelemetry SDK’s by their family)', () => {
    // The SDK reads its whole OTEL_ family itself; the page names the family and the ones set here.
    const missing = source.filter(
      (name) => !documented.has(name) && !(name.startsWith('OTEL_') && page.includes('OTEL_')),
    );
    expect(missing).toEqual([]);
  });
});

describe('docs/README.md', () => {
  const index = readFileSync(join(ROOT, 'docs/README.md'), 'utf8');
  const rows = [...index.matchAll(/^\| \[[^\]]+\]\(([^)]+)\) +\|(.*)\|$/gm)];

  it('links only pages that exist, and calls none of them "to come"', () => {
    expect(rows.length).toBeGreaterThan(0);
    for (const [, target, text] of rows) {
      expect(existsSync(join(ROOT, 'docs', target as string))).toBe(true);
      expect(text).not.toMatch(/to come/i);
    }
  });
});

describe('docs/operations.md', () => {
  const page = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
  const section = page.slice(page.indexOf('\n## Metrics\n'), page.indexOf('\n## Dashboard\n'));
  const listed = new Set(
    [...section.matchAll(/`((?:bff|gather|http|process|nodejs)_[a-z0-9_]+)`/g)].map((m) => m[1]),
  );

  it('lists every metric /metrics serves, and none it does not', async () => {
    // Every reader set, as in the application with Redis: the gauges that depend on one appear.
    const metrics = new Metrics();
    metrics.readReadinessFrom(() => Promise.resolve({ ready: true, checks: [] }));
    metrics.readRedisFrom(() => Promise.resolve(true));
    const served = [...(await metrics.text()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    expect(served.length).toBeGreaterThan(40);
    expect(served.filter((name) => !listed.has(name))).toEqual([]);
    expect([...listed].filter((name) => !served.includes(name))).toEqual([]);
  });
});
