import { PROXY_PREFIX } from './path-policy';

/**
 * Gather's `Location` as the browser may see it: resolved against the URL Gather was asked
 * for, passed only when it points inside GATHER_BASE_URL, as the matching `/api/gather/` path;
 * undefined (dropped) otherwise, so Gather cannot send the browser anywhere else
 * (docs/contract.md, "Headers to the browser").
 */
export function gatherLocation(
  location: string,
  base: URL,
  upstreamPath: string,
): string | undefined {
  let url: URL;
  try {
    url = new URL(location, `${base.origin}${upstreamPath}`);
  } catch {
    return undefined;
  }
  const basePath = base.pathname.replace(/\/$/, '');
  if (url.origin !== base.origin) return undefined;
  if (url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`)) return undefined;
  return `${PROXY_PREFIX}${url.pathname.slice(basePath.length)}${url.search}${url.hash}`;
}
