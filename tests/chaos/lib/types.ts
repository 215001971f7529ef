/**
 * What every chaos scenario takes and returns. Scenarios are written once (scenarios/*.ts) and run
 * twice: shortened inside the test suite (chaos.test.ts), at full length by `npm run chaos`.
 */

export interface ScenarioOptions {
  /**
   * 1 = the full outage lengths (Postgres down 30 s, ...); the test suite runs about 0.1.
   * Every outage is `full length x durationScale`, never shorter than a floor that still makes
   * the fault bite (longer than a Redis command timeout, longer than a breaker's threshold).
   */
  durationScale: number;
  /** Simulated users doing enqueue/chat/skip/end churn (default 12). */
  users?: number;
  /** Progress lines (the bench prints them; the tests stay quiet). */
  log?: (line: string) => void;
}

export type BreakerVerdict = 'opened and closed' | 'stayed closed' | 'still open' | 'opened, not closed';

export interface ScenarioResult {
  failure: string;
  /**
   * From the dependency's return (or, for a killed server, from the kill) until every user is in
   * a resting state, the app answers a full probe round trip and the audit outbox is drained.
   * null: that never happened within the observation cap.
   */
  recoveryMs: number | null;
  /** Committed transitions (seen by a client, in a user's history, or acknowledged to a caller) missing from Postgres. */
  lost: number;
  /** Extra rows: same event_id more than once, plus same (user_id, version) more than once. */
  duplicated: number;
  /** Users not in a resting state 5 s after the dependency returned. */
  stuck: number;
  /** How each breaker behaved over the scenario, for the dependencies the scenario expects to trip. */
  breakers: Partial<Record<'redis' | 'postgres' | 'livekit', BreakerVerdict>>;
  /** Figures behind the verdict (acknowledged operations, latencies, undrained records...). */
  stats: Record<string, number>;
  notes: string[];
}
