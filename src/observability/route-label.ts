/** The route families of the public listener, the only values `route` takes in metrics. */
export type RouteLabel = 'api' | 'auth' | 'health' | 'other';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** `/prefix` itself or anything under `/prefix/`; case-insensitive like Express routing. */
const under = (path: string, prefix: string): boolean =>
  path === prefix || path.startsWith(`${prefix}/`);

/**
 * The route family of a request URL, from its path prefix only: a raw path (ids, user input)
 * would make label cardinality unbounded and could carry personal data.
 */
export function routeLabel(url: string): RouteLabel {
  const end = url.search(/[?#]/);
  const path = (end === -1 ? url : url.slice(0, end)).toLowerCase();
  if (under(path, '/api')) return 'api';
  if (under(path, '/auth')) return 'auth';
  if (under(path, '/healthz') || under(path, '/readyz')) return 'health';
  return 'other';
}

/** The method as a bounded label: Node's parser accepts dozens of methods we never serve. */
export function methodLabel(method: string | undefined): string {
  const upper = (method ?? '').toUpperCase();
  return METHODS.has(upper) ? upper : 'other';
}
