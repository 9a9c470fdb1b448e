/**
 * When the next call may go, for every client in this tab (module state): after a `429` or an
 * `UPSTREAM_THROTTLED` with a wait, calls that opted in hold until it is over rather than each
 * retrying on a timer of its own. One timer, whoever waits.
 */
let openAt = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
let opened: Promise<void> | undefined;
let open: (() => void) | undefined;

/** Holds calls until `at` (`Date.now()` ms), unless they are already held longer. */
export function holdUntil(at: number): void {
  if (opened !== undefined && at <= openAt) return;
  openAt = at;
  if (!opened) opened = new Promise((resolve) => (open = resolve));
  clearTimeout(timer);
  timer = setTimeout(release, at - Date.now());
}

function release(): void {
  timer = undefined;
  const done = open;
  opened = undefined;
  open = undefined;
  done?.();
}

/** Resolves once calls may go (at once when they may now); rejects when `signal` aborts. */
export function whenOpen(signal?: AbortSignal): Promise<void> {
  const gate = opened;
  if (gate === undefined) return Promise.resolve();
  return new Promise((resolve, reject) => {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller's reason, unchanged
    const abort = (): void => reject(signal?.reason);
    if (signal?.aborted) return abort();
    signal?.addEventListener('abort', abort, { once: true });
    void gate.then(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    });
  });
}
