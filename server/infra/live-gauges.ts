/**
 * Gauges read when Prometheus scrapes (prom-client's collect()), so nothing on the hot path keeps
 * them up to date:
 *
 *   users{pool,state}                    people in each state, per active pool
 *   queue_depth{pool}                    present waiting people (the lobby matching scans), per active pool
 *   ws_subscriptions                     live event subscriptions held by this process
 *   dependency_calls_in_flight{dependency}  calls running in the dependency's bulkhead (USE: utilisation)
 *   dependency_calls_queued{dependency}  calls waiting for a slot (USE: saturation)
 *   dependency_calls_limit{dependency}   the bulkhead's slots (RESILIENCE_*_BULKHEAD_LIMIT)
 *
 * `users` and `queue_depth` come from Redis, so they are the whole deployment's numbers and every
 * process reports the same ones: aggregate them with max, never sum. They cover the active pools
 * (the default pool and those used within the last minute, state/active-pools.ts): a bounded set,
 * read with one pipeline per scrape. When Redis
 * cannot answer (the read runs under its breaker, without retry) the two gauges have no samples
 * for that scrape rather than stale ones, and every other metric is still served.
 */
import { Gauge, type Registry } from 'prom-client';
import type { BulkheadSnapshot } from '../resilience/bulkheads';
import type { BulkheadConfig } from '../resilience/config';
import type { Clock } from '../shared/clock';
import { Reused } from '../shared/reused';

export interface PoolCounts {
  pool: string;
  byState: Record<string, number>;
  queueDepth: number;
}

export interface LiveSources {
  /** The counts of the active pools (StateQueries.poolCounts over ActivePools.list). */
  pools: () => Promise<PoolCounts[]>;
  /** Live event subscriptions on this process (EventHub.streamCount). */
  subscriptions: () => number;
  /** Each dependency's bulkhead: its free slots now, and its configured size. */
  dependencies: () => Record<string, { free: BulkheadSnapshot; size: BulkheadConfig }>;
  /** Told when the pool counts could not be read (a scrape must not fail for it). */
  onError?: (err: unknown) => void;
  /** Times the reuse of one read (READ_REUSE_MS). */
  clock: Clock;
}

// users and queue_depth are two gauges of one read: a scrape collects both, milliseconds apart,
// from the same answer; the next scrape (seconds later) reads again.
const READ_REUSE_MS = 250;

export function observeLive(registry: Registry, src: LiveSources): void {
  const registers = [registry];
  // A failed read is no samples for this scrape (null), not a failed scrape.
  const counts = new Reused(src.clock, READ_REUSE_MS, () =>
    src.pools().catch((err: unknown) => {
      src.onError?.(err);
      return null;
    }),
  );
  const read = () => counts.get();

  new Gauge({
    name: 'users',
    help: 'People in each state, per active pool, across the deployment (read from Redis at scrape; every process reports the same: use max)',
    labelNames: ['pool', 'state'],
    registers,
    async collect() {
      const counts = await read();
      this.reset();
      for (const c of counts ?? []) for (const [state, n] of Object.entries(c.byState)) this.set({ pool: c.pool, state }, n);
    },
  });
  new Gauge({
    name: 'queue_depth',
    help: 'Present waiting people per active pool (the queue matching scans), across the deployment (every process reports the same: use max)',
    labelNames: ['pool'],
    registers,
    async collect() {
      const counts = await read();
      this.reset();
      for (const c of counts ?? []) this.set({ pool: c.pool }, c.queueDepth);
    },
  });
  new Gauge({
    name: 'ws_subscriptions',
    help: 'Live event subscriptions (match.events, presence.events) held by this process',
    registers,
    collect() {
      this.set(src.subscriptions());
    },
  });
  const dependencyGauge = (name: string, help: string, value: (d: { free: BulkheadSnapshot; size: BulkheadConfig }) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['dependency'],
      registers,
      collect() {
        for (const [dependency, d] of Object.entries(src.dependencies())) this.set({ dependency }, value(d));
      },
    });
  dependencyGauge('dependency_calls_in_flight', "Calls running in the dependency's bulkhead on this process", (d) => d.size.limit - d.free.executionSlots);
  dependencyGauge('dependency_calls_queued', "Calls waiting for a slot in the dependency's bulkhead on this process", (d) => d.size.queue - d.free.queueSlots);
  dependencyGauge('dependency_calls_limit', "Calls the dependency's bulkhead runs at once (its size)", (d) => d.size.limit);
}
