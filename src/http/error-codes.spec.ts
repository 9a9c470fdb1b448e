import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { BffError, ERROR_STATUS, type ErrorCode } from './error-codes';
import { sendError } from './envelope';

const root = join(__dirname, '..', '..');
const read = (...path: string[]): string => readFileSync(join(root, ...path), 'utf8');

/** The rows of docs/contract.md's "Error codes" table: code to status. */
function documentedStatuses(): Map<string, number> {
  const section = read('docs', 'contract.md').split('\n## Error codes\n')[1]?.split('\n## ')[0];
  const rows = new Map<string, number>();
  for (const line of (section ?? '').split('\n')) {
    const row = /^\|\s*(\d{3})\s*\|\s*`([A-Z_]+)`\s*\|/.exec(line);
    if (row?.[1] && row[2]) rows.set(row[2], Number(row[1]));
  }
  return rows;
}

/** The members of the client package's `BffErrorCode` union. */
function clientCodes(): string[] {
  const source = read('packages', 'client', 'src', 'gather-error.ts');
  const union = /export type BffErrorCode =([^;]+);/.exec(source)?.[1] ?? '';
  return [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1] ?? '');
}

/** The e2e specs and their helpers, where the codes real answers carry are asserted. */
const e2eText = (): string =>
  ['e2e', 'support']
    .flatMap((dir) =>
      readdirSync(join(root, 'test', dir))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => read('test', dir, f)),
    )
    .join('\n');

/** No request produces it on purpose: it is the answer to a bug. Its status is checked below. */
const ONLY_BY_BUG: readonly string[] = ['INTERNAL_ERROR'];

const codes = Object.keys(ERROR_STATUS) as ErrorCode[];

describe('the error codes, one table (src/http/error-codes.ts)', () => {
  it('docs/contract.md lists the same codes with the same statuses', () => {
    const documented = documentedStatuses();
    expect(documented.size).toBeGreaterThan(0);
    expect(Object.fromEntries(documented)).toEqual(ERROR_STATUS);
  });

  it("the client package's BffErrorCode has exactly these codes", () => {
    expect(clientCodes().sort()).toEqual([...codes].sort());
  });

  it('an e2e spec asserts each code on a real answer', () => {
    const specs = e2eText();
    const unasserted = codes.filter((code) => !specs.includes(`'${code}'`));
    expect(unasserted).toEqual(ONLY_BY_BUG);
  });
});

describe('the envelope writer', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const code = codes.find((c) => req.url === `/${c}`);
      if (code) sendError(res, 'req-1', new BffError(code));
      else res.writeHead(418).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it.each([...documentedStatuses()])(
    'answers %s with the status docs/contract.md gives it (%i)',
    async (code, status) => {
      const res = await fetch(`${url}/${code}`);
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    },
  );
});
