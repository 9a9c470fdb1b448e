import fc from 'fast-check';
import { BffError } from '../../src/http/error-codes';
import { upstreamTarget } from '../../src/gather/path-policy';
import { fuzzRuns, judgedSegments, readingsOf, requestTarget } from './generators';

const RUNS = fuzzRuns(500);

/** The checked target, or undefined when the path check refuses it with 400 BAD_REQUEST. */
function accepted(url: string): ReturnType<typeof upstreamTarget> | undefined {
  try {
    return upstreamTarget(url);
  } catch (err) {
    expect(err).toBeInstanceOf(BffError);
    expect((err as BffError).code).toBe('BAD_REQUEST');
    return undefined;
  }
}

/** docs/contract.md, "Error codes": malformed proxied paths are refused, never normalised. */
describe('upstreamTarget under generated paths', () => {
  it('passes only paths that every reading resolves to the segments the allow-list judged', () => {
    fc.assert(
      fc.property(requestTarget(), (url) => {
        const target = accepted(url);
        if (!target) return;
        expect(url).toBe(`/api/gather${target.path}${target.search}`);
        expect(target.path.startsWith('/')).toBe(true);
        const judged = judgedSegments(target.path);
        // A trailing slash is the one empty segment allowed.
        for (const [i, segment] of judged.entries()) {
          expect(i < judged.length - 1 ? ['', '.', '..'] : ['.', '..']).not.toContain(segment);
          // eslint-disable-next-line no-control-regex -- control characters are what it looks for
          expect(segment).not.toMatch(/[/\\\x00-\x1f\x7f]/);
        }
        for (const reading of readingsOf(target.path)) expect(reading).toEqual(judged);
        // eslint-disable-next-line no-control-regex -- as above
        expect(target.search).not.toMatch(/[#\x00-\x1f\x7f]/);
      }),
      { numRuns: RUNS },
    );
  });

  it('passes only paths with one spelling: no unreserved character percent-encoded', () => {
    fc.assert(
      fc.property(requestTarget(), (url) => {
        const target = accepted(url);
        if (!target) return;
        const decodedUnreserved = target.path.replace(/%([0-9a-f]{2})/gi, (all, hex: string) => {
          const c = String.fromCharCode(parseInt(hex, 16));
          return /[A-Za-z0-9\-._~]/.test(c) ? c : all;
        });
        expect(decodedUnreserved).toBe(target.path);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses overlong UTF-8, the old way to spell `.` and `/`', () => {
    for (const url of [
      '/api/gather/%c0%ae%c0%ae/admin',
      '/api/gather/a%c0%afb',
      '/api/gather/%e0%80%ae%e0%80%ae/x',
    ]) {
      expect(accepted(url)).toBeUndefined();
    }
  });
});
