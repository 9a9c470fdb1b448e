import fc from 'fast-check';
import {
  forwardedToGather,
  headersToGather,
  type ForwardContext,
} from '../../src/gather/header-policy';
import {
  asNodeHeaders,
  connectionListed,
  fuzzRuns,
  headerLines,
  NEVER_FROM_BROWSER,
  SET_BY_BFF,
} from './generators';

const RUNS = fuzzRuns(500);

const ctx: ForwardContext = {
  apiKey: 'qapi_serverKEY0123456789abcdef',
  requestId: '4f6c2a1e-0000-4000-8000-000000000000',
  clientIp: '203.0.113.7',
  proto: 'https',
  publicHost: 'bff.example',
  bodyLength: undefined,
};

const FORWARDED = forwardedToGather([]);

const BFF_VALUES: Record<string, string> = {
  'x-api-key': ctx.apiKey,
  'x-request-id': ctx.requestId,
  'x-forwarded-for': ctx.clientIp,
  'x-forwarded-proto': ctx.proto,
  'x-forwarded-host': ctx.publicHost,
};

/** docs/contract.md, "Headers to Gather". */
describe('headersToGather under generated header sets', () => {
  it('sends one server key and the BFF-set headers, and nothing the browser may not choose', () => {
    fc.assert(
      fc.property(headerLines, (lines) => {
        const incoming = asNodeHeaders(lines);
        const out = headersToGather(incoming, ctx, FORWARDED);
        for (const name of SET_BY_BFF) expect(out[name]).toBe(BFF_VALUES[name]);
        for (const name of NEVER_FROM_BROWSER) expect(out[name]).toBeUndefined();
        for (const name of ['connection', 'transfer-encoding', 'host', 'content-length']) {
          expect(out[name]).toBeUndefined();
        }
        if (out.tracestate !== undefined) expect(out.traceparent).toBeDefined();
        if (out.traceparent !== undefined) expect(out.traceparent).not.toBe(incoming.traceparent);
        const listed = connectionListed(lines);
        for (const name of listed)
          if (!SET_BY_BFF.includes(name)) expect(out[name]).toBeUndefined();
        // The allow-list passes unchanged; nothing else of the browser's does.
        for (const [name, value] of Object.entries(incoming)) {
          if (FORWARDED.has(name) && !listed.has(name)) expect(out[name]).toBe(value);
        }
        for (const name of Object.keys(out)) {
          expect(FORWARDED.has(name) || SET_BY_BFF.includes(name) || name === 'traceparent').toBe(
            true,
          );
        }
        expect(Object.keys(out).every((name) => name === name.toLowerCase())).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
