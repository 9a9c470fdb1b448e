import { parseList } from 'structured-headers';

/** What `RateLimit-Policy` and `RateLimit` say of one policy. */
export interface PolicyState {
  q?: number;
  w?: number;
  r?: number;
  t?: number;
}

type HeaderSource = Headers | Record<string, string | string[] | number | undefined>;

function field(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name];
  return value === undefined ? undefined : String(value);
}

/**
 * The answer's rate-limit state by policy name, parsed as the draft has it (structured-field
 * lists; an item's parameters q, w in the policy, r, t in the state); {} when it has neither.
 */
export function rateLimitState(headers: HeaderSource): Record<string, PolicyState> {
  const out: Record<string, PolicyState> = {};
  for (const name of ['ratelimit-policy', 'ratelimit']) {
    const value = field(headers, name);
    if (value === undefined) continue;
    for (const [item, params] of parseList(value)) {
      const policy = (out[String(item)] ??= {});
      for (const [key, param] of params) {
        if (typeof param === 'number') policy[key as keyof PolicyState] = param;
      }
    }
  }
  return out;
}

/** `r` of the policy named `name`, or undefined when the answer has no such item. */
export const remainingOf = (headers: HeaderSource, name = 'user'): number | undefined =>
  rateLimitState(headers)[name]?.r;
