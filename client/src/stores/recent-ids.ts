/**
 * A bounded set of recently seen event ids. Resume after a reconnect can overlap by an event
 * or two; remembering the last N ids makes applying an event exactly-once on our side too.
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly max: number) {}

  /** Remember `id`; false if it was already there. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    // Sets iterate in insertion order, so the first one is the oldest.
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value!);
    return true;
  }

  clear(): void {
    this.ids.clear();
  }
}
