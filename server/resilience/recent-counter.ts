/**
 * RecentCounter: counts by key over a sliding window, in fixed buckets, so memory stays bounded
 * however many errors arrive (window / bucket buckets, each a small map). Injected clock.
 */
import type { Clock } from '../shared/clock';

export class RecentCounter {
  private readonly buckets: Array<{ start: number; counts: Map<string, number> }> = [];

  constructor(
    private readonly windowMs: number,
    private readonly clock: Clock,
    // One-second buckets: health() is read by people, a second of slack is invisible to them.
    private readonly bucketMs = 1000,
  ) {}

  add(key: string, n = 1): void {
    const now = this.clock.now();
    const start = now - (now % this.bucketMs);
    let last = this.buckets[this.buckets.length - 1];
    if (!last || last.start !== start) {
      last = { start, counts: new Map() };
      this.buckets.push(last);
    }
    last.counts.set(key, (last.counts.get(key) ?? 0) + n);
    this.prune(now);
  }

  /** Totals per key over the window. */
  counts(): Map<string, number> {
    this.prune(this.clock.now());
    const out = new Map<string, number>();
    for (const b of this.buckets) for (const [k, n] of b.counts) out.set(k, (out.get(k) ?? 0) + n);
    return out;
  }

  private prune(now: number): void {
    while (this.buckets.length && this.buckets[0]!.start + this.bucketMs <= now - this.windowMs) this.buckets.shift();
  }
}
