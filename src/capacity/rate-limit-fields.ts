import { parseList, serializeList, type Item, type List } from 'structured-headers';
import type { ServerResponse } from 'node:http';

/**
 * One policy the BFF applies (docs/capacity.md, "RateLimit fields"): its name, its quota `q` and
 * its window `w` in seconds, and that item already serialised for `RateLimit-Policy`. A policy is
 * fixed, so it is serialised once, when made.
 */
export interface RateLimitPolicy {
  readonly name: string;
  readonly q: number;
  readonly w: number;
  /** `"name";q=…;w=…`, as RFC 9651 serialises it. */
  readonly field: string;
  /** `"name"`, the start of this policy's member of `RateLimit`, serialised once too. */
  readonly member: string;
}

/** What one policy says of one request: `r` left (never negative), `t` whole seconds to renewal. */
export interface RateLimitItem {
  readonly policy: RateLimitPolicy;
  readonly r: number;
  readonly t: number;
}

/** Where a call's items go, in order: each step that counts the call against a policy adds one. */
export interface RateLimitItems {
  rateLimits?: RateLimitItem[];
}

/** A policy named `name` allowing `q` in `w` seconds. */
export function ratePolicy(name: string, q: number, w: number): RateLimitPolicy {
  return {
    name,
    q,
    w,
    field: serializeList([
      [
        name,
        new Map([
          ['q', q],
          ['w', w],
        ]),
      ],
    ]),
    member: serializeList([[name, new Map()]]),
  };
}

/** The item of `policy` with `remaining` left and `resetSeconds` to renewal, in the field's terms. */
export function rateItem(
  policy: RateLimitPolicy,
  remaining: number,
  resetSeconds: number,
): RateLimitItem {
  return {
    policy,
    r: Math.max(0, Math.floor(remaining)),
    t: Math.max(0, Math.ceil(resetSeconds)),
  };
}

/** Adds `item` to the call's list, replacing an earlier item of the same policy. */
export function addRateLimit(into: RateLimitItems, item: RateLimitItem): void {
  const list = (into.rateLimits ??= []);
  const at = list.findIndex((held) => held.policy.name === item.policy.name);
  if (at === -1) list.push(item);
  else list[at] = item;
}

/** The two fields an answer carries. */
export interface RateLimitFields {
  readonly policy: string;
  readonly state: string;
}

/**
 * `RateLimit-Policy` for `items`: each policy's member was serialised when it was made, and a
 * list serialises as its members joined by ", " (RFC 9651 §4.1.1), so nothing is parsed or
 * serialised per request; with one policy the string is the one made at start.
 */
function policyField(items: readonly RateLimitItem[]): string {
  if (items.length === 1) return items[0]!.policy.field;
  return items.map((item) => item.policy.field).join(', ');
}

/** The largest Integer RFC 9651 (§3.3.1) allows: 15 decimal digits. */
const MAX_INTEGER = 999_999_999_999_999;

/**
 * One policy's member of `RateLimit`, `"name";r=…;t=…`: the name serialised with the policy, `r`
 * and `t` written as the decimal integers RFC 9651 makes of them (§4.1.4) without a generic
 * serialiser call on every answer. Values the fast form does not cover (not an integer, out of
 * range) go to the library, which serialises or refuses them as before.
 */
function stateMember(item: RateLimitItem): string {
  const { r, t } = item;
  if (Number.isInteger(r) && Number.isInteger(t) && r <= MAX_INTEGER && t <= MAX_INTEGER) {
    return `${item.policy.member};r=${r};t=${t}`;
  }
  const member: Item = [
    item.policy.name,
    new Map([
      ['r', r],
      ['t', t],
    ]),
  ];
  return serializeList([member]);
}

/** `RateLimit` for `items`: a list serialises as its members joined by ", " (RFC 9651 §4.1.1). */
function stateField(items: readonly RateLimitItem[]): string {
  if (items.length === 1) return stateMember(items[0]!);
  return items.map(stateMember).join(', ');
}

/** The BFF's own fields for `items` (at least one). */
export function rateLimitFields(items: readonly RateLimitItem[]): RateLimitFields {
  return { policy: policyField(items), state: stateField(items) };
}

/** A header field as Node gives it (repeated lines joined) parsed as a list; undefined if it is not one. */
export function parsedList(value: string | string[] | undefined): List | undefined {
  if (value === undefined) return undefined;
  try {
    return parseList(Array.isArray(value) ? value.join(', ') : value);
  } catch {
    return undefined;
  }
}

/**
 * Gather's `RateLimit-Policy` and `RateLimit` with the BFF's items after them, in the same
 * fields. A field of Gather's that does not parse is dropped: appended to, it would make the
 * whole field unparsable, and a recipient ignores a field it cannot parse (RFC 9651 §4.2), so the
 * BFF's own items would be lost with it (docs/capacity.md, "RateLimit fields").
 */
export function mergedRateLimitFields(
  upstreamPolicy: string | string[] | undefined,
  upstreamState: string | string[] | undefined,
  items: readonly RateLimitItem[],
): Partial<RateLimitFields> {
  const gatherPolicy = parsedList(upstreamPolicy);
  const gatherState = parsedList(upstreamState);
  const ours = items.length === 0 ? undefined : rateLimitFields(items);
  return {
    policy: joined(gatherPolicy, ours?.policy),
    state: joined(gatherState, ours?.state),
  };
}

/** Gather's items, whose shape is not known ahead, are parsed and serialised by the library. */
function joined(gather: List | undefined, ours: string | undefined): string | undefined {
  if (gather === undefined || gather.length === 0) return ours;
  const theirs = serializeList(gather);
  return ours === undefined ? theirs : `${theirs}, ${ours}`;
}

/** Sets the BFF's own fields for `items` on a response whose head is not written yet. */
export function writeRateLimitFields(res: ServerResponse, items: readonly RateLimitItem[]): void {
  if (items.length === 0) return;
  const fields = rateLimitFields(items);
  res.setHeader('RateLimit-Policy', fields.policy);
  res.setHeader('RateLimit', fields.state);
}
