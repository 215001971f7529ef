/**
 * OnlineStats: how many people are connected now and how many wait, for the landing page
 * (`stats.online`). Counted from Redis over every registered pool (the pools a person can be in:
 * bounded by POOL_LANGUAGES x POOL_REGIONS and the audiences), so it is right across processes and
 * on a cluster, and cached per process for STATS_CACHE_MS: however many people poll, a process
 * asks Redis at most once per that interval (concurrent askers share one count).
 *
 * "Connected" is "seen within HEARTBEAT_TIMEOUT_MS": every process refreshes the last-seen time of
 * its sockets and streams every HEARTBEAT_INTERVAL_MS, so a connected person always counts and a
 * gone one stops counting within the timeout. "Waiting" is the present people in the queues (the
 * lobbies): someone whose connection dropped while waiting is not counted.
 */
import type { Clock } from '../shared/clock';
import { Reused } from '../shared/reused';
import type { StateStore } from '../state/store';

export interface OnlineCounts {
  online: number;
  waiting: number;
}

export interface OnlineStatsOptions {
  /** STATS_CACHE_MS. */
  cacheMs: number;
  /** HEARTBEAT_TIMEOUT_MS: seen within this long = connected. */
  timeoutMs: number;
}

export class OnlineStats {
  private readonly counts: Reused<OnlineCounts>;

  constructor(store: StateStore, clock: Clock, opts: OnlineStatsOptions) {
    this.counts = new Reused(clock, opts.cacheMs, async () => store.online(await store.pools(), clock.now() - opts.timeoutMs));
  }

  /** The counts, at most STATS_CACHE_MS old. */
  get(): Promise<OnlineCounts> {
    return this.counts.get();
  }
}
