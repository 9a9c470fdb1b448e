/**
 * In-process sets of session ids under a name (a user id, a provider session id), for the
 * memory store. An empty set is dropped, so the index never outgrows the sessions it names.
 */
export class SessionIndex {
  private readonly sets = new Map<string, Set<string>>();

  add(name: string, sid: string): void {
    let set = this.sets.get(name);
    if (!set) this.sets.set(name, (set = new Set()));
    set.add(sid);
  }

  remove(name: string, sid: string): void {
    const set = this.sets.get(name);
    if (!set) return;
    set.delete(sid);
    if (set.size === 0) this.sets.delete(name);
  }

  /** A copy: callers may remove members while they walk it. */
  members(name: string): string[] {
    return [...(this.sets.get(name) ?? [])];
  }
}
