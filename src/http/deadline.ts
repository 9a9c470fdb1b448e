/**
 * Settles as `work` does, or rejects with `onTimeout()` once `ms` pass first. The work is not
 * cancelled: only the caller stops waiting (a late Redis reply is still read in order on its
 * connection; a late key read is dropped). Used wherever a dependency that hangs must not hang a
 * request, a probe or start-up.
 */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => Error = () => new Error(`no answer within ${ms} ms`),
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
