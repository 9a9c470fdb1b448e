import { gatherAnswer } from './gather-answer.js';
import { createGatherClient, type FetchLike } from './gather-client.js';
import { GatherError } from './gather-error.js';

const REQUEST_ID = '9b8a7c6d-5e4f-4321-8abc-def012345678';

function answering(body: string, contentType = 'application/json'): FetchLike {
  return () =>
    Promise.resolve(
      new Response(body, {
        status: 200,
        headers: { 'Content-Type': contentType, 'X-Request-Id': REQUEST_ID },
      }),
    );
}

interface Question {
  id: string;
  text: string;
}

describe('gatherAnswer', () => {
  it('returns Gather’s data and meta', async () => {
    const body = {
      data: [{ id: 'q_1', text: 'How was your week?' }],
      meta: { requestId: REQUEST_ID, timestamp: '2026-11-27T10:00:00.000Z', total: 1 },
    };
    const client = createGatherClient({ fetch: answering(JSON.stringify(body)) });
    const answer = await gatherAnswer<Question[]>(client, '/questions');
    expect(answer).toEqual(body);
    expect(answer.data[0]?.text).toBe('How was your week?');
  });

  it('gives an empty meta when Gather sent none', async () => {
    const client = createGatherClient({ fetch: answering('{"data":null}') });
    expect(await gatherAnswer(client, '/questions/q_1')).toEqual({ data: null, meta: {} });
  });

  it.each([
    ['a bare list', '[1,2]', 'application/json'],
    ['an object without data', '{"items":[]}', 'application/json'],
    ['text', 'ok', 'text/plain'],
    ['no body', '', 'application/json'],
  ])('refuses %s as UNEXPECTED_RESPONSE, with the request id', async (_, body, type) => {
    const client = createGatherClient({ fetch: answering(body, type) });
    const failed = gatherAnswer(client, '/questions');
    await expect(failed).rejects.toBeInstanceOf(GatherError);
    await expect(failed).rejects.toMatchObject({
      status: 200,
      code: 'UNEXPECTED_RESPONSE',
      requestId: REQUEST_ID,
    });
  });
});
