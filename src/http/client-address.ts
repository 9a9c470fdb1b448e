import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import proxyaddr from 'proxy-addr';

/** TRUST_PROXY (docs/configuration.md): no proxy, how many hops, or the trusted addresses. */
export type TrustProxy = false | number | string[];

export interface ClientAddress {
  /** The client's address, as Express's `req.ip` reads it under the same `trust proxy`. */
  ip(req: IncomingMessage): string;
  /** The scheme the browser used, as Express's `req.protocol` reads it. */
  protocol(req: IncomingMessage): string;
}

/**
 * TRUST_PROXY applied outside Express (the proxied path does not run through it), with the same
 * library and the same rules as Express's `trust proxy`, so both sides agree on who the client is.
 */
export function clientAddress(trustProxy: TrustProxy): ClientAddress {
  const trust =
    trustProxy === false
      ? () => false
      : typeof trustProxy === 'number'
        ? (_addr: string, hop: number) => hop < trustProxy
        : proxyaddr.compile(trustProxy);
  return {
    // Trusting no proxy, the address is the socket's: no X-Forwarded-For to parse.
    ip:
      trustProxy === false
        ? (req) => req.socket.remoteAddress ?? ''
        : (req) => proxyaddr(req, trust),
    protocol: (req) => {
      const own = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
      if (!trust(req.socket.remoteAddress ?? '', 0)) return own;
      const header = req.headers['x-forwarded-proto'];
      const first = (typeof header === 'string' ? header : own).split(',')[0]?.trim();
      return first || own;
    },
  };
}
