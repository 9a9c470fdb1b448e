import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';

export interface RawAnswer {
  readonly status: number;
  /** Lower-cased names; repeated headers joined with `, `. */
  readonly headers: Record<string, string>;
  readonly text: string;
}

/**
 * A keep-alive HTTP/1.1 connection that writes requests exactly as given (repeated and
 * oddly-cased headers, names Node's own client refuses to send) and reads one answer per
 * request. After a `Connection: close` answer or a closed socket, the next request opens a new one.
 */
export class RawConnection {
  private socket: Socket | undefined;
  private buffer = Buffer.alloc(0);
  private closed = true;
  private wake: () => void = () => undefined;

  constructor(private readonly port: number) {}

  /** Sends `GET path` (UTF-8) with the header lines after a `Host`; resolves with the answer. */
  get(path: string, lines: readonly [string, string][]): Promise<RawAnswer> {
    const head = [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1']
      .concat(lines.map(([n, v]) => `${n}: ${v}`))
      .join('\r\n');
    return this.exchange(Buffer.from(`${head}\r\n\r\n`, 'utf8'));
  }

  async exchange(bytes: Buffer): Promise<RawAnswer> {
    if (this.closed) await this.open();
    (this.socket as Socket).write(bytes);
    const answer = await this.readAnswer();
    if (answer.headers.connection?.toLowerCase() === 'close') this.close();
    return answer;
  }

  close(): void {
    this.socket?.destroy();
    this.closed = true;
  }

  private async open(): Promise<void> {
    const socket = createConnection(this.port, '127.0.0.1');
    socket.on('error', () => undefined);
    // A replaced socket's late events must not touch its successor's state.
    socket.on('data', (c: Buffer) => {
      if (this.socket !== socket) return;
      this.buffer = Buffer.concat([this.buffer, c]);
      this.wake();
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.closed = true;
      this.wake();
    });
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.closed = false;
    await once(socket, 'connect');
  }

  /** Waits until `take` finds what it needs in the buffer (or the socket closed). */
  private async until<T>(take: () => T | undefined): Promise<T> {
    for (;;) {
      const got = take();
      if (got !== undefined) return got;
      if (this.closed) throw new Error('connection closed before a whole answer');
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private async readAnswer(): Promise<RawAnswer> {
    const headEnd = await this.until(() => {
      const i = this.buffer.indexOf('\r\n\r\n');
      return i === -1 ? undefined : i;
    });
    const [statusLine, ...fields] = this.buffer
      .subarray(0, headEnd)
      .toString('latin1')
      .split('\r\n');
    this.buffer = this.buffer.subarray(headEnd + 4);
    const headers: Record<string, string> = {};
    for (const field of fields) {
      const colon = field.indexOf(':');
      const name = field.slice(0, colon).toLowerCase();
      const value = field.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
    let body: Buffer;
    if (headers['transfer-encoding']?.toLowerCase() === 'chunked') body = await this.readChunked();
    else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      body = await this.until(() => (this.buffer.length >= length ? this.take(length) : undefined));
    } else if (status === 204 || status === 304) body = Buffer.alloc(0);
    else {
      await this.until(() => (this.closed ? true : undefined)).catch(() => undefined);
      body = this.take(this.buffer.length);
    }
    return { status, headers, text: body.toString('utf8') };
  }

  private async readChunked(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      const size = await this.until(() => {
        const i = this.buffer.indexOf('\r\n');
        if (i === -1) return undefined;
        const n = parseInt(this.buffer.subarray(0, i).toString('latin1'), 16);
        this.buffer = this.buffer.subarray(i + 2);
        return n;
      });
      const chunk = await this.until(() =>
        this.buffer.length >= size + 2 ? this.take(size + 2) : undefined,
      );
      if (size === 0) return Buffer.concat(parts);
      parts.push(chunk.subarray(0, size));
    }
  }

  private take(n: number): Buffer {
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }
}
