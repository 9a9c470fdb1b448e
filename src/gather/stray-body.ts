import type { Socket } from 'node:net';
import type { ServerSocket } from '../http/server-drain';

/**
 * The watch on a Gather connection after a bodyless answer, on the socket itself while it waits
 * in the keep-alive pool: not a WeakMap (docs/architecture.md, "No per-request state in
 * long-lived maps").
 */
const WATCH = Symbol('strayBodyWatch');
type Watched = Socket & { [WATCH]?: () => void };

/**
 * Whether Node has dropped Gather's connection over bytes that came after a bodyless answer:
 * its parser destroys a connection that goes on with a response nobody asked for, and its agent
 * one with bytes pending, sometimes without reading them. Gather closing the connection, the
 * ordinary way it ends, ends its read side first.
 */
export function droppedForStrayBytes(upstream: Socket | undefined): boolean {
  return upstream !== undefined && upstream.destroyed && !upstream.readableEnded;
}

/**
 * After a bodyless answer (204, 304, HEAD) went to the browser on `browser`: any byte on
 * Gather's connection before it carries another request is a body that answer may not have,
 * come too late for a 502, so the browser's connection is closed (docs/contract.md, "Headers
 * to the browser"). Node destroys a pooled connection that receives anything, or that Gather
 * closes; the bytes read, or a read side Gather never ended, tell the two apart.
 */
export function watchForStrayBody(upstream: Socket, browser: Socket, onStray: () => void): void {
  endStrayBodyWatch(upstream);
  if (upstream.destroyed) {
    if (droppedForStrayBytes(upstream)) strayCame(browser, onStray);
    return;
  }
  const readBefore = upstream.bytesRead;
  const onClose = (): void => {
    (upstream as Watched)[WATCH] = undefined;
    if (upstream.bytesRead === readBefore && !droppedForStrayBytes(upstream)) return;
    strayCame(browser, onStray);
  };
  upstream.once('close', onClose);
  (upstream as Watched)[WATCH] = onClose;
}

/** Ends the watch on a connection given to another request: what comes on it is that answer. */
export function endStrayBodyWatch(upstream: Socket): void {
  const onClose = (upstream as Watched)[WATCH];
  if (onClose === undefined) return;
  (upstream as Watched)[WATCH] = undefined;
  upstream.off('close', onClose);
}

function strayCame(browser: Socket, onStray: () => void): void {
  onStray();
  closeBrowserConnection(browser);
}

/** Closes a browser's connection now if idle, else once the answer being written on it is out. */
function closeBrowserConnection(browser: Socket): void {
  const res = (browser as ServerSocket)._httpMessage;
  if (!res) browser.destroy();
  // Node closes the connection after an answer whose head says so.
  else if (!res.headersSent) res.setHeader('Connection', 'close');
  else res.once('finish', () => browser.destroySoon());
}
