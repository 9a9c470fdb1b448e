/**
 * A path pattern as the YAML writes it (allow-list, per-route rate limits): `*` matches one
 * segment or part of one, `**` any number of segments. Anchored, and matched against the raw
 * (still percent-encoded) path below /api/gather that the path checks accepted.
 */
export function pathPattern(pattern: string): RegExp {
  let source = '';
  for (const segment of pattern.split('/').slice(1)) {
    source +=
      segment === '**'
        ? '(?:/[^/]*)*'
        : '/' +
          segment
            .split('*')
            .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('[^/]*');
  }
  return new RegExp(`^${source}$`);
}
