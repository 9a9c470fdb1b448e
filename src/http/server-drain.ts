import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How often a drain closes the keep-alive connections that went idle since it last looked. */
const DRAIN_POLL_MS = 50;

/**
 * How long a connection may stay silent during a drain before it counts as a preconnect: a new
 * connection whose request is still on its way (the listener stays open) must not be cut.
 */
const SILENT_MS = 1000;

/** How a drain ended: no connection left, or the grace ran out and the rest was cut. */
export type DrainOutcome = 'idle' | 'cut';

/**
 * Node's own pointer from a server socket to the response being written on it (what
 * http-terminator reads too): how a drain finds the answers in flight without tracking requests.
 */
export type ServerSocket = Socket & { _httpMessage?: ServerResponse | null };

/** When a connection was accepted, kept on the socket itself (no per-connection map). */
const acceptedAt = Symbol('acceptedAt');
type TimedSocket = ServerSocket & { [acceptedAt]?: number };

function closeAfterAnswer(_req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Connection', 'close');
}

/**
 * Drains one HTTP server (docs/contract.md, "Shutdown"): the listener stays open, every answer
 * not begun yet carries `Connection: close`, keep-alive connections (and those that have sent
 * nothing yet) are closed as soon as they are idle, and the drain ends when no connection is
 * left, or at the grace, cutting the rest.
 * Connections are tracked, not requests, so nothing runs per request until a drain begins.
 */
export class ServerDrain {
  private readonly sockets = new Set<TimedSocket>();
  private onEmpty: (() => void) | undefined;

  constructor(private readonly server: Server) {
    server.on('connection', (socket: TimedSocket) => {
      socket[acceptedAt] = Date.now();
      this.sockets.add(socket);
      socket.once('close', () => {
        this.sockets.delete(socket);
        if (this.sockets.size === 0) this.onEmpty?.();
      });
    });
  }

  /** Resolves once no connection is left (`idle`), or after `graceMs` with the rest cut (`cut`). */
  drain(graceMs: number): Promise<DrainOutcome> {
    const { server, sockets } = this;
    server.prependListener('request', closeAfterAnswer);
    for (const socket of sockets) {
      const res = (socket as ServerSocket)._httpMessage;
      if (res && !res.headersSent) res.setHeader('Connection', 'close');
    }
    return new Promise<DrainOutcome>((resolve) => {
      const finish = (outcome: DrainOutcome): void => {
        this.onEmpty = undefined;
        clearInterval(poll);
        clearTimeout(grace);
        resolve(outcome);
      };
      // An answer whose head went out before the drain leaves its connection open and idle.
      const poll = setInterval(() => this.closeIdle(), DRAIN_POLL_MS);
      const grace = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
        finish('cut');
      }, graceMs);
      this.onEmpty = () => finish('idle');
      this.closeIdle();
      if (sockets.size === 0) finish('idle');
    });
  }

  /**
   * Closes the connections with nothing to answer: idle keep-alive ones, and ones that have not
   * sent a byte for SILENT_MS since they opened (a browser's preconnect), which Node's
   * `closeIdleConnections` leaves open.
   */
  private closeIdle(): void {
    this.server.closeIdleConnections();
    const silentSince = Date.now() - SILENT_MS;
    for (const socket of this.sockets) {
      if (
        socket.bytesRead === 0 &&
        !socket._httpMessage &&
        (socket[acceptedAt] ?? 0) <= silentSince
      ) {
        socket.destroy();
      }
    }
  }
}
