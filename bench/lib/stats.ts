/** Latency samples and their summary. Pure; percentiles by nearest rank on the sorted samples. */

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** Nearest-rank percentile (`p` in 0..100) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    meanMs: sorted.length ? sum / sorted.length : NaN,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    p999Ms: percentile(sorted, 99.9),
    maxMs: sorted.length ? sorted[sorted.length - 1]! : NaN,
  };
}

/** Appends samples to a growable typed array (millions of samples without boxed numbers). */
export class LatencyRecorder {
  private buf = new Float64Array(1 << 16);
  private n = 0;

  record(ms: number): void {
    if (this.n === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  summary(): LatencySummary {
    return summarize(this.buf.subarray(0, this.n));
  }
}

/** Rounds for display and JSON: 3 significant decimals below 10, 1 decimal above. */
export function round(v: number): number {
  if (!Number.isFinite(v)) return v;
  return Math.abs(v) < 10 ? Math.round(v * 1000) / 1000 : Math.round(v * 10) / 10;
}

export interface TailBursts {
  /** Samples in the slowest `fraction`. */
  slowest: number;
  /** Groups of them that completed within `gapMs` of each other: one stall each. */
  bursts: number;
  /** Samples in the largest group. */
  largest: number;
}

/**
 * Whether a latency tail is many unlucky requests or a few stalls: the slowest `fraction` of the
 * samples, grouped by completion time (`doneAt`, ms) where consecutive ones are at most `gapMs`
 * apart. A stopped process (a GC pause, a long task) releases everything that queued behind it at
 * once, so its victims finish together in one group.
 */
export function tailBursts(samples: ReadonlyArray<{ ms: number; doneAt: number }>, fraction = 0.01, gapMs = 2): TailBursts {
  const slowest = [...samples].sort((a, b) => b.ms - a.ms).slice(0, Math.ceil(samples.length * fraction));
  const done = slowest.map((s) => s.doneAt).sort((a, b) => a - b);
  let bursts = 0;
  let largest = 0;
  let size = 0;
  done.forEach((t, i) => {
    if (i === 0 || t - done[i - 1]! > gapMs) {
      bursts++;
      size = 0;
    }
    largest = Math.max(largest, ++size);
  });
  return { slowest: slowest.length, bursts, largest };
}
