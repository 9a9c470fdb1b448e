/**
 * Settles as `work` does, or rejects with `onTimeout()` once `ms` pass first. The work is not
 * cancelled: only the caller stops waiting (a late Redis reply is still read in order on its
 * connection; a late key read is dropped). Used wherever a dependency that hangs must not hang a
 * request, a probe or start-up.
 */
export function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => Error = () => new Error(`no answer within ${ms} ms`),
): Promise<T> {
  // One promise and one timer per call, no race: this runs for every Redis call of a request.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    const settle = (): void => clearTimeout(timer);
    work.then(settle, settle);
    work.then(resolve, reject);
  });
}
