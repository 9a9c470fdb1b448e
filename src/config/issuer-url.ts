function parse(issuer: string): URL | undefined {
  try {
    return new URL(issuer);
  } catch {
    return undefined;
  }
}

/**
 * Whether plain http may be used to reach this issuer: only on loopback (tests, a provider on
 * the developer's machine), never elsewhere, where codes and tokens would cross the network in clear.
 */
export function insecureIssuerAllowed(issuer: string): boolean {
  const url = parse(issuer);
  return (
    url?.protocol === 'http:' && (url.hostname === 'localhost' || url.hostname === '127.0.0.1')
  );
}

/** An issuer the BFF may talk to: https, or plain http on loopback. */
export function acceptableIssuer(issuer: string): boolean {
  return parse(issuer)?.protocol === 'https:' || insecureIssuerAllowed(issuer);
}
