/**
 * WindowCounter: at most `limit` hits per key in each window of `windowMs`, decided at once
 * (synchronously: a WebSocket's messages must keep their order, so no promise per message). The
 * whole table is dropped when a window ends, so it holds one window's keys at most, and at most
 * `maxKeys` of those: past that a new key is let through uncounted rather than grow the table
 * (a flood from that many addresses is for a proxy or the network in front to stop).
 * rate-limiter-flexible's limiters answer with a promise; this is the one synchronous place.
 */
import type { Clock } from './clock';

export class WindowCounter {
  private counts = new Map<string, number>();
  private windowStart = -Infinity;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: Clock,
    private readonly maxKeys = 100_000,
  ) {}

  /** Counts a hit for `key`: true while it is within the limit of the current window. */
  hit(key: string): boolean {
    const now = this.clock.now();
    if (now - this.windowStart >= this.windowMs) {
      this.counts = new Map();
      this.windowStart = now;
    }
    const n = (this.counts.get(key) ?? 0) + 1;
    if (n === 1 && this.counts.size >= this.maxKeys) return true;
    this.counts.set(key, n);
    return n <= this.limit;
  }
}
