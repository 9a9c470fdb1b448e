import { startTestApp, type TestApp } from '../support/start-app';

describe('the application', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers an unknown route with the NOT_FOUND envelope and a matching X-Request-Id', async () => {
    const res = await fetch(`${t.url}/nope`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string }; meta: { requestId: string } };
    expect(body.error.code).toBe('NOT_FOUND');
    expect(res.headers.get('x-request-id')).toBe(body.meta.requestId);
  });
});
