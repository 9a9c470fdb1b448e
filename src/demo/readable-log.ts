import { Writable } from 'node:stream';

/** pino's numeric levels as the demo prints them. */
const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const COLOURS: Record<string, string> = { WARN: '33', ERROR: '31', FATAL: '31', INFO: '32' };

/** Nest's wiring chatter at start-up: forty lines that would push the sign-in banner away. */
const QUIET_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/** Shown by the layout itself, or noise in a terminal. */
const SHOWN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'context', 'req', 'res', 'err']);
const REQUEST_SHOWN = new Set([...SHOWN, 'responseTime']);

interface LogLine {
  level?: number;
  time?: number;
  msg?: string;
  context?: string;
  req?: { id?: string; method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
  err?: { type?: string; message?: string; stack?: string };
  [field: string]: unknown;
}

const clock = (time: number | undefined): string =>
  new Date(time ?? Date.now()).toTimeString().slice(0, 8);

function fields(line: LogLine, skip: ReadonlySet<string>): string {
  return Object.entries(line)
    .filter(([name, value]) => !skip.has(name) && value !== undefined)
    .map(([name, value]) => ` ${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('');
}

/**
 * One JSON log line as a person reads it: `10:00:01 INFO  GET /api/gather/questions 200 12 ms
 * id=… userId=… gatherRequestId=…`. Undefined for a line the demo leaves out; text that is not
 * JSON is kept as it is.
 */
export function formatLogLine(text: string, colour = false): string | undefined {
  let line: LogLine;
  try {
    line = JSON.parse(text) as LogLine;
  } catch {
    return text;
  }
  if (typeof line !== 'object' || line === null) return text;
  if (line.context !== undefined && QUIET_CONTEXTS.has(line.context)) return undefined;
  const name = LEVELS[line.level ?? 30] ?? String(line.level);
  const level = colour && COLOURS[name] ? `\x1b[${COLOURS[name]}m${name}\x1b[0m` : name;
  const head = `${clock(line.time)} ${level}${' '.repeat(Math.max(1, 6 - name.length))}`;
  if (line.req && line.res) {
    // pino-http's completion line: its `err` only restates the status code.
    const { method, url, id } = line.req;
    const took = line.responseTime === undefined ? '' : ` ${line.responseTime} ms`;
    return `${head}${method} ${url} ${line.res.statusCode}${took} id=${id}${fields(line, REQUEST_SHOWN)}`;
  }
  const context = line.context ? `[${line.context}] ` : '';
  const request = line.req?.id ? ` id=${line.req.id}` : '';
  const error = line.err ? `\n${line.err.stack ?? `${line.err.type}: ${line.err.message}`}` : '';
  return `${head}${context}${line.msg ?? ''}${request}${fields(line, SHOWN)}${error}`;
}

/**
 * A log destination for the demo: pino's JSON lines, reformatted for a terminal, written to
 * `out`. Production keeps JSON; only the demo, which a person watches, uses this.
 */
export function readableLog(
  out: NodeJS.WritableStream & { isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>> = {},
): Writable {
  const colour = out.isTTY === true && env.NO_COLOR === undefined;
  let pending = '';
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const text = line.trim() === '' ? undefined : formatLogLine(line, colour);
        if (text !== undefined) out.write(`${text}\n`);
      }
      done();
    },
  });
}
