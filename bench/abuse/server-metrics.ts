/**
 * The server's own view, scraped from its /metrics at both ends of a measured window:
 * - event-loop lag p99 and max over the window (prom-client's default metrics; each scrape
 *   resets the histogram, so the scrape at the window's start begins the window's). A long lag
 *   with spare server CPU points at the machine; a long lag with the server's CPU busy at the
 *   server itself.
 * - what it refused at the edge (`refused_requests_total` by reason) and the errors nothing
 *   caught (`uncaught_errors_total` by kind) during the window: the attacks as the server saw them.
 * Null when /metrics does not answer (METRICS_TOKEN or METRICS_PORT set, or the server is gone).
 */
import { REQUEST_TIMEOUT_MS } from './pace';

export interface ServerMetrics {
  lagP99Ms: number;
  lagMaxMs: number;
  /** Cumulative counters, `<metric>{<label>}` -> value. */
  counters: Record<string, number>;
}

const COUNTERS = /^(refused_requests_total|uncaught_errors_total)\{\w+="([^"]*)"\} (\S+)$/;

export async function scrapeMetrics(url: string): Promise<ServerMetrics | null> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (!res.ok) return null;
    const text = await res.text();
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000;
    const counters: Record<string, number> = {};
    for (const line of text.split('\n')) {
      const m = COUNTERS.exec(line);
      if (m) counters[`${m[1]!.replace('_total', '')} ${m[2]}`] = Number(m[3]);
    }
    return { lagP99Ms: gauge('nodejs_eventloop_lag_p99_seconds'), lagMaxMs: gauge('nodejs_eventloop_lag_max_seconds'), counters };
  } catch {
    return null;
  }
}

/** The counters' increase from `a` to `b`, the ones that moved only; null when a scrape failed. */
export function counterDelta(a: ServerMetrics | null, b: ServerMetrics | null): Record<string, number> | null {
  if (!a || !b) return null;
  return Object.fromEntries(Object.entries(b.counters).flatMap(([k, v]) => (v > (a.counters[k] ?? 0) ? [[k, v - (a.counters[k] ?? 0)]] : [])));
}
