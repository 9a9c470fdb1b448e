import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { BffError } from './error-codes';
import { envelopeOf } from './envelope';
import { randomUUID } from 'node:crypto';

/** A complete raw HTTP response with the envelope, for sockets Node never made a response for. */
function rawEnvelope(err: BffError): string {
  const id = randomUUID();
  const body = JSON.stringify(envelopeOf(err, id));
  return [
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? ''}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `X-Request-Id: ${id}`,
    'Cache-Control: no-store',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Requests that never reach Express still get the envelope: what Node's parser rejects
 * (control characters, malformed request lines) and CONNECT, which Node routes to its own event.
 */
export function installServerErrorHooks(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(rawEnvelope(new BffError('BAD_REQUEST')));
  });
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.end(rawEnvelope(new BffError('METHOD_NOT_ALLOWED')));
  });
}
