/**
 * The soak's load behind one small interface, so the driver can be swapped without touching the
 * harness: bench/soak/paced-load.ts (the default: people arriving at a steady rate, each through
 * bench/soak/user-flow.ts) or bench/soak/full-call-load.ts (the shared closed-loop whole-call
 * driver of bench/flow, whose pairs wedge in IN_CALL within minutes: see docs/benchmarks.md, Soak).
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
  /** Stops the load (people present may finish their calls, up to a bound) and closes every socket. */
  stop(): Promise<void>;
  stats(): LoadStats;
}
