/** One step of a request's checks: from one stage of it to the next, a promise only when it waits. */
export type Step<A, B> = (call: A) => B | Promise<B>;

/**
 * Typed steps composed once, at start-up, into one function (`run`): each step takes what the
 * one before it returns. A step that does not wait adds no promise or microtask; the first
 * refusal, thrown or rejected, ends the run.
 */
export class Steps<A, B> {
  private constructor(readonly run: Step<A, B>) {}

  static first<A, B>(step: Step<A, B>): Steps<A, B> {
    return new Steps(step);
  }

  then<C>(next: Step<B, C>): Steps<A, C> {
    const run = this.run;
    return new Steps((call: A) => {
      const done = run(call);
      return done instanceof Promise ? done.then(next) : next(done);
    });
  }
}
