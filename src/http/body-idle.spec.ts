import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { json } from 'express';
import { BODY_IDLE_MS, parseBodyWithin, type BodyParser } from './body-idle';
import { BffError } from './error-codes';

/** A request whose body the test pushes by hand, and its response. */
function exchange(headers: Record<string, string>): { req: IncomingMessage; res: ServerResponse } {
  const req = new IncomingMessage(new Socket());
  req.headers = headers;
  return { req, res: new ServerResponse(req) };
}

/** Lets pushed chunks reach the reader, and settled promises their handlers. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** How a promise has settled so far, readable without waiting for it. */
function outcomeOf(promise: Promise<unknown>): {
  settled?: 'resolved' | 'rejected';
  error?: unknown;
} {
  const outcome: { settled?: 'resolved' | 'rejected'; error?: unknown } = {};
  promise.then(
    () => (outcome.settled = 'resolved'),
    (error: unknown) => Object.assign(outcome, { settled: 'rejected', error }),
  );
  return outcome;
}

describe('parseBodyWithin', () => {
  // Streams move on ticks and immediates, which stay real.
  beforeEach(() =>
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }),
  );
  afterEach(() => jest.useRealTimers());

  const parseJson: BodyParser = json({ limit: '10kb' });
  const declared = { 'content-type': 'application/json', 'content-length': '18' };

  it('rejects with 408 REQUEST_TIMEOUT and closes the connection after BODY_IDLE_MS of silence', async () => {
    const { req, res } = exchange(declared);
    const outcome = outcomeOf(parseBodyWithin(parseJson, req, res));
    req.push('{"a":');
    await settle();
    jest.advanceTimersByTime(BODY_IDLE_MS - 1);
    await settle();
    expect(outcome.settled).toBeUndefined();
    jest.advanceTimersByTime(1);
    await settle();
    expect(outcome.settled).toBe('rejected');
    expect(outcome.error).toBeInstanceOf(BffError);
    expect((outcome.error as BffError).code).toBe('REQUEST_TIMEOUT');
    expect(res.getHeader('connection')).toBe('close');
  });

  it('counts the silence again from every chunk', async () => {
    const { req, res } = exchange(declared);
    const parsed = parseBodyWithin(parseJson, req, res);
    jest.advanceTimersByTime(BODY_IDLE_MS - 1);
    req.push('{"a":');
    await settle();
    jest.advanceTimersByTime(BODY_IDLE_MS - 1);
    req.push('"0123456789"}');
    req.push(null);
    await expect(parsed).resolves.toBeUndefined();
    expect((req as IncomingMessage & { body: unknown }).body).toEqual({ a: '0123456789' });
    expect(res.hasHeader('connection')).toBe(false);
  });

  it('leaves a body the parser does not read alone: not set flowing, no timer', async () => {
    const { req, res } = exchange({ 'content-type': 'text/plain', 'content-length': '5' });
    await expect(parseBodyWithin(parseJson, req, res)).resolves.toBeUndefined();
    expect(req.readableFlowing).toBeNull();
    expect(jest.getTimerCount()).toBe(0);
  });
});
