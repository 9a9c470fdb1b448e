import { setTimeout as sleep } from 'node:timers/promises';
import { expectBodyTimeout, openRaw, parseRawAnswer } from '../support/http';
import { writeUsersFile } from '../support/session';
import { startTestApp, TEST_ORIGIN, type TestApp } from '../support/start-app';

const PASSWORD = 'correct horse battery';
const LOGIN = JSON.stringify({ username: 'ada', password: PASSWORD });

/** The head of a same-origin login whose body is `length` bytes long. */
const loginHead = (length: number, ...extra: string[]): string =>
  `${[
    'POST /auth/login HTTP/1.1',
    'Host: x',
    `Origin: ${TEST_ORIGIN}`,
    'X-CSRF: 1',
    'Content-Type: application/json',
    `Content-Length: ${length}`,
    ...extra,
  ].join('\r\n')}\r\n\r\n`;

/**
 * A login body that pauses gets the proxy's rule for bodies (docs/contract.md, "Error codes":
 * 408): silence, not slowness, is what ends it.
 */
describe('POST /auth/login with a body that pauses', () => {
  let t: TestApp;
  beforeAll(async () => {
    const usersFile = await writeUsersFile([
      { username: 'ada', password: PASSWORD, name: 'Ada', email: 'ada@example.test' },
    ]);
    t = await startTestApp({ AUTH_LOCAL_USERS_FILE: usersFile });
  });
  afterAll(() => t?.close());

  it('answers 408 REQUEST_TIMEOUT after 10 s of silence and closes the connection; a body paced under 10 s still signs in', async () => {
    // 12 of the 100 bytes announced, then nothing.
    const stalled = openRaw(t.url, `${loginHead(100)}{"username":`, 20_000);
    // The whole body over 12 s, never silent for 10.
    const paced = openRaw(t.url, loginHead(LOGIN.length, 'Connection: close'), 20_000);
    const [first = '', ...rest] = LOGIN.match(/.{1,16}/g) as string[];
    expect(rest.length).toBeGreaterThanOrEqual(3);
    const pacing = (async () => {
      paced.socket.write(first);
      for (const part of rest) {
        await sleep(4000);
        paced.socket.write(part);
      }
    })();

    const [timedOut, signedIn] = await Promise.all([stalled.answer, paced.answer, pacing]);
    expectBodyTimeout(timedOut);
    expect(parseRawAnswer(signedIn.text).status).toBe(200);
    expect(signedIn.answeredAfterMs).toBeGreaterThan(12_000);
  }, 30_000);
});
