/**
 * Sampler: lets one of a flood through per key and interval, so a flood of refusals anyone can
 * cause (forged webhooks, unauthenticated calls) is logged as a sample with a count, never one
 * line or audit row per request.
 */
import type { Clock } from './clock';

export class Sampler {
  private readonly last = new Map<string, { at: number; skipped: number }>();

  constructor(
    private readonly everyMs: number,
    private readonly clock: Clock,
    /** Keys remembered at most (a flood of new keys cannot grow this without bound). */
    private readonly maxKeys = 1000,
  ) {}

  /**
   * Whether this one is the sample: returns how many were skipped since the previous sample of
   * `key` (0 for the first), or null when it is to be skipped.
   */
  take(key: string): number | null {
    const now = this.clock.now();
    const seen = this.last.get(key);
    if (seen && now - seen.at < this.everyMs) {
      seen.skipped++;
      return null;
    }
    if (!seen && this.last.size >= this.maxKeys) this.last.clear();
    this.last.set(key, { at: now, skipped: 0 });
    return seen?.skipped ?? 0;
  }
}
