import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { BffError } from '../http/error-codes';
import { BodyBudget, readBody, type BodyLimits } from './request-body';

/** A request whose body the test pushes by hand, and its response. */
function exchange(headers: Record<string, string>): { req: IncomingMessage; res: ServerResponse } {
  const req = new IncomingMessage(new Socket());
  req.headers = headers;
  return { req, res: new ServerResponse(req) };
}

/** Lets pushed chunks reach the reader, and settled promises their handlers. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const codeOf = (err: unknown): string | undefined =>
  err instanceof BffError ? err.code : undefined;

describe('BodyBudget', () => {
  it("refuses a user past their share with 429 and Retry-After, and still takes another user's", () => {
    const budget = new BodyBudget(100, 40);
    expect(budget.reserve('ada', 30)).toBeUndefined();
    const refused = budget.reserve('ada', 11);
    expect(refused?.code).toBe('RATE_LIMITED');
    expect(refused?.headers).toEqual({ 'Retry-After': '10' });
    expect(refused?.details).toEqual({ retryAfterSeconds: 10 });
    expect(budget.reserve('bob', 40)).toBeUndefined();
  });

  it('gives a share back as its uploads end', () => {
    const budget = new BodyBudget(100, 40);
    expect(budget.reserve('ada', 40)).toBeUndefined();
    expect(budget.reserve('ada', 1)?.code).toBe('RATE_LIMITED');
    budget.release('ada', 40);
    expect(budget.reserve('ada', 40)).toBeUndefined();
  });

  it('answers 503 only when all users together hold the whole budget', () => {
    const budget = new BodyBudget(100, 40);
    expect(budget.reserve('ada', 40)).toBeUndefined();
    expect(budget.reserve('bob', 40)).toBeUndefined();
    expect(budget.reserve('cy', 21)?.code).toBe('SERVICE_UNAVAILABLE');
    expect(budget.reserve('cy', 20)).toBeUndefined();
  });
});

describe('readBody', () => {
  // Streams move on ticks and immediates, which stay real.
  beforeEach(() =>
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }),
  );
  afterEach(() => jest.useRealTimers());

  const limits = (budget = new BodyBudget(1000, 500)): BodyLimits => ({
    maxBytes: 400,
    idleMs: 10_000,
    minBytesPerSecond: 10,
    rateGraceMs: 5_000,
    budget,
  });

  it('cuts a body that keeps far below the minimum rate once open past the grace: 408', async () => {
    const { req, res } = exchange({ 'content-length': '300' });
    let error: unknown;
    readBody(req, res, limits(), 'ada')?.catch((err: unknown) => (error = err));
    // A byte every 4 s: never a pause the idle rule cuts; inside the grace, never judged.
    jest.advanceTimersByTime(4_000);
    req.push('x');
    await settle();
    expect(error).toBeUndefined();
    jest.advanceTimersByTime(4_000);
    req.push('x');
    await settle();
    expect(codeOf(error)).toBe('REQUEST_TIMEOUT');
  });

  it('reads a body that keeps the minimum rate, however long it takes', async () => {
    const { req, res } = exchange({ 'content-length': '120' });
    const read = readBody(req, res, limits(), 'ada');
    for (let i = 0; i < 12; i += 1) {
      jest.advanceTimersByTime(1_000);
      req.push('x'.repeat(10));
      await settle();
    }
    req.push(null);
    await expect(read).resolves.toHaveLength(120);
  });

  it("counts a chunked body against its user's share as it grows", async () => {
    const budget = new BodyBudget(1000, 100);
    const { req, res } = exchange({ 'transfer-encoding': 'chunked' });
    let error: unknown;
    readBody(req, res, limits(budget), 'ada')?.catch((err: unknown) => (error = err));
    req.push('x'.repeat(60));
    await settle();
    expect(budget.reserve('ada', 41)?.code).toBe('RATE_LIMITED');
    req.push('x'.repeat(41));
    await settle();
    expect(codeOf(error)).toBe('RATE_LIMITED');
    res.emit('close');
    expect(budget.reserve('ada', 100)).toBeUndefined();
  });
});
