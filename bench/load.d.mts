// Types of load.mjs for its spec (test/bench-load.spec.ts).
import type { Generator, LoadResult } from './report.mjs';

export function pickLoadGenerator(wanted?: string): Generator;
export function runLoad(
  generator: Generator,
  target: { url: string; headers: Record<string, string> },
  options: { connections: number; seconds: number; maxRequests?: number; logFile: string },
): Promise<LoadResult>;
