// Types of report.mjs for its unit test (test/bench-report.spec.ts).
export type Histogram = [us: number, count: number][];

export interface LoadResult {
  requests: number;
  durationUs: number;
  non2xx: number;
  errors: number;
  histogram: Histogram;
}

export interface Run {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuUs: number;
  non2xx: number;
  errors: number;
  rssMB: number;
  histogram: Histogram;
  redisCpuUs?: number;
}

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export interface Summary {
  rounds: number;
  rps: Spread;
  cpuUs: Spread;
  p50Ms: number;
  p99Ms: number;
  samples: number;
  non2xx: number;
  errors: number;
  rssMB: number;
}

export type Generator =
  | { name: 'wrk' | 'autocannon'; fallback: boolean; command: string }
  | { name: null; missing: string };

export interface Verdict {
  what: string;
  target: string;
  value: string;
  pass: boolean | null;
}

export interface Judgement {
  trusted: boolean;
  sanity: Verdict;
  verdicts: Verdict[];
  info: string[];
}

export function fixed(x: number, digits: number): string;
export function spread(xs: number[]): Spread;
export function mergeHistograms(histograms: Histogram[]): Histogram;
export function percentileUs(histogram: Histogram, p: number): number;
export function runResult(result: LoadResult, cpuUsed: number, rssMB: number): Run;
export function summarize(runs: Run[]): Summary;
export function table(rows: (Summary & { target: string; c: number })[]): string;
export function judge(input: {
  generator: Generator;
  runs: Map<string, Run[]>;
  failed: Map<string, string>;
  warmupFailures: number;
}): Judgement;
export function mark(pass: boolean | null, trusted: boolean): 'PASS' | 'MISS' | 'SKIP' | 'VOID';
export function verdictLines(judgement: Judgement): string[];
export function failedStrict(judgement: Judgement): boolean;
