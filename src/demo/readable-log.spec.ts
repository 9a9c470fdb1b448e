import { PassThrough } from 'node:stream';
import { formatLogLine, readableLog } from './readable-log';

const TIME = Date.parse('2026-11-27T10:00:01.000Z');
const CLOCK = new Date(TIME).toTimeString().slice(0, 8);
const REQ_ID = 'b8608d3a-303a-471b-a95f-60dad734a1e4';

const line = (fields: Record<string, unknown>): string =>
  JSON.stringify({ level: 30, time: TIME, pid: 1, hostname: 'vm', ...fields });

describe('formatLogLine', () => {
  it('writes a request as method, path, status and latency, then its ids', () => {
    const text = line({
      level: 40,
      req: { id: REQ_ID, method: 'GET', url: '/api/gather/questions/q_99' },
      res: { statusCode: 404 },
      responseTime: 8,
      userId: 'demo',
      gatherRequestId: 'g-1',
      msg: 'request completed',
    });
    expect(formatLogLine(text)).toBe(
      `${CLOCK} WARN  GET /api/gather/questions/q_99 404 8 ms id=${REQ_ID} userId=demo gatherRequestId=g-1`,
    );
  });

  it("leaves out pino-http's restatement of a 5xx status as an error", () => {
    const text = line({
      level: 50,
      req: { id: REQ_ID, method: 'GET', url: '/api/gather/x' },
      res: { statusCode: 502 },
      err: { type: 'Error', message: 'failed with status code 502', stack: 'Error: at …' },
      responseTime: 9,
      msg: 'request errored',
    });
    expect(formatLogLine(text)).toBe(`${CLOCK} ERROR GET /api/gather/x 502 9 ms id=${REQ_ID}`);
  });

  it('writes other lines as context, message and their fields', () => {
    const text = line({ context: 'GatherKeys', key: 'bd541097', msg: 'Gather key loaded' });
    expect(formatLogLine(text)).toBe(`${CLOCK} INFO  [GatherKeys] Gather key loaded key=bd541097`);
    const audit = line({ audit: true, event: 'login.failed', details: { n: 1 }, msg: 'audit' });
    expect(formatLogLine(audit)).toBe(
      `${CLOCK} INFO  audit audit=true event=login.failed details={"n":1}`,
    );
  });

  it("keeps an error's stack on the lines below", () => {
    const text = line({ level: 50, err: { stack: 'Error: boom\n    at x' }, msg: 'failed' });
    expect(formatLogLine(text)).toBe(`${CLOCK} ERROR failed\nError: boom\n    at x`);
  });

  it("drops Nest's start-up wiring chatter and keeps text that is not JSON", () => {
    expect(
      formatLogLine(line({ context: 'InstanceLoader', msg: 'X initialized' })),
    ).toBeUndefined();
    expect(formatLogLine(line({ context: 'RouterExplorer', msg: 'Mapped' }))).toBeUndefined();
    expect(formatLogLine('plain words')).toBe('plain words');
  });

  it('colours the level for a terminal only', () => {
    expect(formatLogLine(line({ level: 40, msg: 'w' }), true)).toBe(
      `${CLOCK} \x1b[33mWARN\x1b[0m  w`,
    );
  });
});

describe('readableLog', () => {
  it('reformats whole lines however the JSON arrives in chunks', () => {
    const out = new PassThrough();
    const written: string[] = [];
    out.on('data', (chunk: Buffer) => written.push(chunk.toString('utf8')));
    const log = readableLog(out);
    const text = `${line({ msg: 'one' })}\n${line({ msg: 'two' })}\n`;
    log.write(text.slice(0, 17));
    log.write(text.slice(17, 90));
    log.write(text.slice(90));
    expect(written.join('')).toBe(`${CLOCK} INFO  one\n${CLOCK} INFO  two\n`);
  });

  it('colours only a terminal that has not asked for NO_COLOR', () => {
    const capture = (isTTY: boolean, env: Record<string, string>) => {
      const out = Object.assign(new PassThrough(), { isTTY });
      const written: string[] = [];
      out.on('data', (chunk: Buffer) => written.push(chunk.toString('utf8')));
      readableLog(out, env).write(`${line({ level: 50, msg: 'e' })}\n`);
      return written.join('');
    };
    expect(capture(true, {})).toContain('\x1b[31mERROR\x1b[0m');
    expect(capture(true, { NO_COLOR: '1' })).toBe(`${CLOCK} ERROR e\n`);
    expect(capture(false, {})).toBe(`${CLOCK} ERROR e\n`);
  });
});
