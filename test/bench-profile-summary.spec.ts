import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CpuProfile } from '../bench/profile-summary.mjs';

/**
 * The profile summariser (bench/profile-summary.mjs): self time per package and function from a
 * .cpuprofile, only inside the load's time window, idle left out.
 */
type Summary = typeof import('../bench/profile-summary.mjs');
let summary: Summary;
beforeAll(async () => {
  summary = await import('../bench/profile-summary.mjs');
});

const ROOT = pathToFileURL(join(__dirname, '..')).href;
const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 9 });

describe('bench profile summary', () => {
  it('names the package of each frame: node_modules, our dist, Node by area, V8', () => {
    const of = (url: string, fn = 'f') => summary.packageOf({ functionName: fn, url });
    expect(of(`${ROOT}/node_modules/httpxy/dist/index.mjs`)).toBe('httpxy');
    expect(of(`${ROOT}/node_modules/@nestjs/core/router/x.js`)).toBe('@nestjs/core');
    expect(of(`${ROOT}/node_modules/pino/node_modules/sonic-boom/index.js`)).toBe('sonic-boom');
    expect(of(`${ROOT}/dist/http/proxy-pipeline.js`)).toBe('ours: src/http');
    expect(of(`${ROOT}/dist/main.js`)).toBe('ours: src');
    expect(of(`${ROOT}/bench/peer/dist/main.js`)).toBe('peer: bench/peer');
    expect(of(`${ROOT}/bench/bare-proxy.mjs`)).toBe('bench: bare-proxy.mjs');
    expect(of('node:_http_server')).toBe('node: http');
    expect(of('node:internal/streams/readable')).toBe('node: net/stream');
    expect(of('node:internal/crypto/random')).toBe('node: crypto');
    expect(of('', '(garbage collector)')).toBe('V8: GC (main thread)');
    expect(of('', 'writev')).toBe('native builtins and bindings');
  });

  it('counts only the samples inside the window, each for the gap to the next, idle left out', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(idle)') },
        { id: 2, callFrame: frame('emit', 'node:events') },
        { id: 3, callFrame: frame('forward', `${ROOT}/dist/gather/gather-forwarder.js`) },
      ],
      startTime: 1_000,
      // Samples at 1010 (startup), 1100, 1200, 1300, 1400, 1500; the window is 1100–1400.
      samples: [3, 2, 3, 1, 3, 2],
      timeDeltas: [10, 90, 100, 100, 100, 100],
    };
    const s = summary.summarizeProfile(profile, { from: 1_100, to: 1_400 });
    expect(s.totalUs).toBe(300);
    expect([...s.byPackage]).toEqual([
      ['node: events/async', 100],
      ['ours: src/gather', 200],
    ]);
    expect(s.byFunction.get('forward gather-forwarder.js:10 [ours: src/gather]')).toBe(200);
    const lines = summary.sideBySide([{ name: 'bff', summary: s, requests: 100 }]);
    expect(lines[1]).toMatch(/^total \(main thread\)\s+3\.00$/);
  });
});
