import type { AllowRule } from '../config/config.schema';
import { pathPattern } from '../http/path-pattern';

/** A compiled `{ method, path }` pattern: `*` is one segment, `**` any number of them. */
export interface RouteMatcher {
  matches(method: string, path: string): boolean;
}

/** Compiles rules once at start-up; matching a request is a few regex tests. */
export function compileRules(rules: readonly AllowRule[]): RouteMatcher {
  const compiled = rules.map((r) => ({ method: r.method, regex: pathPattern(r.path) }));
  return {
    matches: (method, path) =>
      compiled.some((r) => (r.method === '*' || r.method === method) && r.regex.test(path)),
  };
}
