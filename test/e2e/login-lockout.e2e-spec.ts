import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { send, type Envelope, type RawResponse } from '../support/http';
import { loginRequest, writeUsersFile } from '../support/session';
import { startTestApp, type TestApp } from '../support/start-app';

const BOB = {
  username: 'bob',
  password: 'bobs right password',
  name: 'Bob',
  email: 'b@example.test',
};
const LIMIT = 2;

const login = (
  t: TestApp,
  username: string,
  password: string,
  from: string,
): Promise<RawResponse> =>
  send(t.url, loginRequest(username, password, { 'x-forwarded-for': from }));

const codeOf = (res: RawResponse): string => res.json<Envelope>().error.code;

describe('POST /auth/login lockout: per username and address, with a per-username safety net', () => {
  let usersFile: string;
  let t: TestApp;
  beforeAll(async () => {
    usersFile = await writeUsersFile([BOB]);
    t = await startTestApp({
      AUTH_LOCAL_USERS_FILE: usersFile,
      TRUST_PROXY: '1',
      RATE_LIMIT_LOGIN_LIMIT: String(LIMIT),
      RATE_LIMIT_LOGIN_WINDOW_SECONDS: '60',
    });
  });
  afterAll(async () => {
    await t?.close();
    await rm(dirname(usersFile), { recursive: true, force: true });
  });

  it("someone else's failures for a username do not block its owner's correct password from another address", async () => {
    for (let i = 0; i < LIMIT; i++) {
      expect(codeOf(await login(t, 'bob', 'guess', '192.0.2.1'))).toBe('INVALID_CREDENTIALS');
    }
    const again = await login(t, 'BOB', 'guess', '192.0.2.1');
    expect(again.status).toBe(429);
    expect(codeOf(again)).toBe('RATE_LIMITED');
    const owner = await login(t, 'bob', BOB.password, '198.51.100.20');
    expect(owner.status).toBe(200);
  });

  it('the tight limit counts a username from one address, even across usernames per address', async () => {
    // A second address tries one username at the limit, then another username is still its own.
    for (let i = 0; i < LIMIT; i++) {
      expect((await login(t, 'carol', 'x', '192.0.2.2')).status).toBe(401);
    }
    expect((await login(t, 'carol', 'x', '192.0.2.2')).status).toBe(429);
  });

  it(`stops a username tried from many addresses at ${10 * LIMIT} attempts (10 × the limit)`, async () => {
    const spread = await Promise.all(
      Array.from({ length: 10 * LIMIT }, (_, i) => login(t, 'dave', 'x', `203.0.113.${i + 1}`)),
    );
    expect(spread.map((res) => res.status)).toEqual(Array(10 * LIMIT).fill(401));
    const net = await login(t, 'dave', 'x', '203.0.113.200');
    expect(net.status).toBe(429);
    expect(codeOf(net)).toBe('RATE_LIMITED');
  }, 120_000);
});
