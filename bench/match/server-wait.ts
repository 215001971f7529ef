/**
 * The servers' own view of queue waits: the `match_wait_seconds` histogram (each matched user's
 * wait, enqueue or re-queue -> matched, timed inside the state script) scraped from /metrics at
 * both ends of the measured window. Beside the load generator's enqueue->matched latency it
 * shows how much of that latency is waiting in the queue and how much is getting there and back
 * (WebSocket, Redis pub/sub, both processes' event loops).
 */
const METRIC = 'match_wait_seconds_bucket';

/** Cumulative bucket counts by upper bound (seconds), summed over the servers. */
export async function scrapeWaits(urls: string[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const line of text.split('\n')) {
      if (!line.startsWith(METRIC)) continue;
      const le = /le="([^"]+)"/.exec(line)?.[1];
      if (!le) continue;
      const bound = le === '+Inf' ? Infinity : Number(le);
      out.set(bound, (out.get(bound) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
    }
  }
  return out;
}

export interface WaitSummary {
  count: number;
  /** Share of waits of at most 1 ms. */
  within1Ms: number;
  /** Upper bound (ms) of the bucket holding the 50th and 99th percentile. */
  p50BucketMs: number;
  p99BucketMs: number;
}

export function summarizeWaits(before: Map<number, number>, after: Map<number, number>): WaitSummary {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const cum = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const count = cum[cum.length - 1] ?? 0;
  const at = (q: number) => bounds[cum.findIndex((c) => c >= q * count)] ?? Infinity;
  return {
    count,
    within1Ms: count ? (cum[bounds.indexOf(0.001)] ?? 0) / count : 0,
    p50BucketMs: at(0.5) * 1000,
    p99BucketMs: at(0.99) * 1000,
  };
}
