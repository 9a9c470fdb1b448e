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
