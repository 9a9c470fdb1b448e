/** Polls `condition` until it holds, failing after `deadlineMs`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  deadlineMs = 5000,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Waits until a writer is stalled: `blocked()` holds and `progress()` has not moved over ten
 * looks in a row (backpressure has reached it). Fails after `deadlineMs`.
 */
export async function untilStalled(
  blocked: () => boolean,
  progress: () => number,
  deadlineMs = 5000,
): Promise<void> {
  let last = -1;
  let still = 0;
  await until(() => {
    const now = progress();
    still = blocked() && now === last ? still + 1 : 0;
    last = now;
    return still >= 10;
  }, deadlineMs);
}
