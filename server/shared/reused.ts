/**
 * A read reused for a while: `get()` answers from the last read while it is younger than `ttlMs`
 * (timed from when the read started), so however many callers ask, the source is read at most
 * once per interval, and callers that ask while a read is running share it. A read that fails is
 * not kept: the next caller reads again. The one way the server caches a count it shows many
 * people (stats.online, the console's overview and funnel, the scrape-time pool gauges).
 */
import type { Clock } from './clock';

export class Reused<T> {
  private last: { at: number; value: Promise<T> } | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly read: () => Promise<T>,
  ) {}

  get(): Promise<T> {
    const now = this.clock.now();
    if (this.last && now - this.last.at < this.ttlMs) return this.last.value;
    return this.fresh(now);
  }

  /** Reads now, whatever the age of the last read (the answer is then reused as any other). */
  fresh(now = this.clock.now()): Promise<T> {
    const entry = { at: now, value: this.read() };
    this.last = entry;
    entry.value.catch(() => {
      if (this.last === entry) this.last = null;
    });
    return entry.value;
  }
}
