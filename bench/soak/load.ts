/**
 * The soak's load behind one small interface, so the driver can be swapped without touching the
 * harness (today: bench/soak/full-call-load.ts, the shared whole-call driver of bench/flow).
 */

/** What a driver reports: cumulative calls completed and errors, people connected now, and its own counters. */
export interface LoadStats {
  calls: number;
  errors: number;
  online: number;
  detail: Record<string, unknown>;
}

export interface SoakLoad {
  /** Connects and starts the load; resolves once it runs. */
  start(): Promise<void>;
  /** Stops the load and closes every socket. */
  stop(): Promise<void>;
  stats(): LoadStats;
}
