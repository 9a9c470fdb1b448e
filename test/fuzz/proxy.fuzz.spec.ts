import fc from 'fast-check';
import { startFakeGather, type FakeGather } from '../fakes/fake-gather';
import { signIn, writeUsersFile } from '../support/session';
import { startTestApp, TEST_KEY, TEST_ORIGIN, type TestApp } from '../support/start-app';
import { RawConnection, type RawAnswer } from './raw-connection';
import { upstreamTarget } from '../../src/gather/path-policy';
import {
  connectionListed,
  fuzzRuns,
  headerLines,
  judgedSegments,
  NEVER_FROM_BROWSER,
  readingsOf,
  requestTarget,
} from './generators';

const RUNS = fuzzRuns(60);
/** Room for every case on a busy machine: the properties run sequentially on one app. */
const TIMEOUT_MS = 60_000 + RUNS * 40;

type Answer = RawAnswer;

/**
 * The real application and a fake Gather, driven by generated requests over keep-alive
 * connections (docs/contract.md, "Error codes" for the paths, "Headers to Gather" for the headers).
 */
describe('generated requests end to end', () => {
  let fake: FakeGather;
  let t: TestApp;
  let cookie: string;
  let connection: RawConnection;

  beforeAll(async () => {
    fake = await startFakeGather();
    const usersFile = await writeUsersFile([
      { username: 'ada', password: 'correct horse battery', name: 'Ada', email: 'a@example.com' },
    ]);
    t = await startTestApp({
      GATHER_BASE_URL: fake.baseUrl,
      AUTH_LOCAL_USERS_FILE: usersFile,
      RATE_LIMIT_USER_LIMIT: '100000000',
      LOG_LEVEL: 'warn',
    });
    cookie = await signIn(t, 'ada', 'correct horse battery');
    connection = new RawConnection(Number(new URL(t.url).port));
  });
  beforeEach(() => fake.reset());
  afterAll(async () => {
    connection.close();
    await t.close();
    await fake.close();
  });

  /** One exchange on the shared keep-alive connection; `lines` as raw name/value lines. */
  const exchange = (path: string, lines: readonly [string, string][]): Promise<Answer> =>
    connection.get(path, lines);

  const spaLines = (): [string, string][] => [
    ['Origin', TEST_ORIGIN],
    ['X-CSRF', '1'],
    ['Cookie', cookie],
  ];

  const sendPath = exchange;

  const unitAccepts = (url: string): boolean => {
    try {
      upstreamTarget(url);
      return true;
    } catch {
      return false;
    }
  };

  /** An answer the BFF wrote itself: the envelope, its id in the header. */
  const expectEnvelope = (a: Answer): void => {
    const env = JSON.parse(a.text) as { error: { code: string }; meta: { requestId: string } };
    expect(typeof env.error.code).toBe('string');
    expect(a.headers['x-request-id']).toBe(env.meta.requestId);
  };

  it(
    'forwards a generated path byte for byte inside the base, or refuses it with 400',
    async () => {
      await fc.assert(
        fc.asyncProperty(requestTarget(), async (path) => {
          fake.reset();
          const a = await sendPath(path, spaLines());
          expect(a.text).not.toContain(TEST_KEY);
          if (a.status === 400) {
            expectEnvelope(a);
            expect(fake.requests).toHaveLength(0);
            return;
          }
          expect(a.status).toBe(200);
          // A space ends the request target; Node's parser lets a trailing one through.
          const target = path.split(' ')[0]!;
          expect(unitAccepts(target)).toBe(true);
          expect(fake.requests).toHaveLength(1);
          const got = fake.requests[0]!.url;
          // Known deviation: an empty path reaches Gather as the base without its slash.
          if (target === '/api/gather/') return;
          expect(got).toBe(`/qsi/gather${target.slice('/api/gather'.length)}`);
          const below = got.split('?')[0]!.slice('/qsi/gather'.length);
          for (const reading of readingsOf(below)) expect(reading).toEqual(judgedSegments(below));
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'never reaches Gather from a path outside /api/gather/, and answers /auth/* without a 5xx',
    async () => {
      const prefixes = fc.constantFrom(
        '/auth/',
        '/auth/me/',
        '/api/gather',
        '/api/gatherx/',
        '/API/gather/',
        '//api/gather/',
        '/api//gather/',
        '/auth/../api/gather/',
        '/healthz/',
        '/',
      );
      await fc.assert(
        fc.asyncProperty(
          // `/api/gather` followed by a generated `/…` is a proxied path after all: not this property's.
          prefixes
            .chain((p) => requestTarget(p))
            .filter((path) => !path.startsWith('/api/gather/')),
          async (path) => {
            fake.reset();
            const a = await sendPath(path, spaLines());
            expect(a.status).toBeLessThan(500);
            expect(fake.requests).toHaveLength(0);
            expect(a.text).not.toContain(TEST_KEY);
            if (a.status >= 400) expectEnvelope(a);
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'gives Gather one server key and never the browser cookie or its forwarding headers',
    async () => {
      await fc.assert(
        fc.asyncProperty(headerLines, async (lines) => {
          fake.reset();
          const a = await exchange('/api/gather/questions', [...spaLines(), ...lines]);
          expect(a.text).not.toContain(TEST_KEY);
          // A Cookie line in the noise may come first only after the real one: the session holds.
          expect(a.status).toBe(200);
          expect(fake.requests).toHaveLength(1);
          const got = fake.requests[0]!;
          const names = got.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
          const count = (name: string): number => names.filter((n) => n === name).length;
          expect(count('x-api-key')).toBe(1);
          expect(got.headers['x-api-key']).toBe(TEST_KEY);
          for (const name of ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']) {
            expect(count(name)).toBe(1);
          }
          expect(got.headers['x-forwarded-for']).toBe('127.0.0.1');
          expect(got.headers['x-forwarded-proto']).toBe('http');
          expect(got.headers['x-forwarded-host']).toBe('localhost:3000');
          expect(count('x-request-id')).toBe(1);
          for (const name of NEVER_FROM_BROWSER) expect(count(name)).toBe(0);
          expect(got.headers.connection ?? 'keep-alive').toMatch(/^(keep-alive|close)$/);
          for (const name of connectionListed(lines)) {
            if (!['x-api-key', 'x-request-id'].includes(name) && !name.startsWith('x-forwarded-')) {
              expect(count(name)).toBe(0);
            }
          }
          const sentTraceparents = lines
            .filter(([n]) => n.toLowerCase() === 'traceparent')
            .map(([, v]) => v);
          if (got.headers.tracestate !== undefined) expect(got.headers.traceparent).toBeDefined();
          expect(sentTraceparents).not.toContain(got.headers.traceparent);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'answers GET /auth/me under generated headers with the session, 400 or 401, never a 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(headerLines, fc.boolean(), async (lines, withCookie) => {
          fake.reset();
          const base: [string, string][] = withCookie ? [['Cookie', cookie]] : [];
          const a = await exchange('/auth/me', [...base, ...lines]);
          expect([200, 400, 401]).toContain(a.status);
          expect(a.headers['cache-control']).toBe('no-store');
          expect(a.text).not.toContain(TEST_KEY);
          if (a.status === 200)
            expect((JSON.parse(a.text) as { user: { id: string } }).user.id).toBe('ada');
          else expectEnvelope(a);
          expect(fake.requests).toHaveLength(0);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );
});
