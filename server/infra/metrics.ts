/**
 * Prometheus metrics: one registry per server (no global state), default process metrics included.
 * Those defaults are the process's memory and resources, read by `npm run soak` (bench/soak) and
 * not duplicated here: `process_resident_memory_bytes`, `nodejs_heap_size_used_bytes`, and
 * `nodejs_active_resources{type}`, which is process.getActiveResourcesInfo() grouped by type at
 * each scrape (`Timeout`: timers that keep the process alive, so unref'd ones are not counted;
 * `TCPSocketWrap`: TCP sockets). The defaults also hold the event-loop delay, sampled by
 * monitorEventLoopDelay every 10 ms and reset at each scrape: `nodejs_eventloop_lag_p50_seconds`,
 * `_p90_`, `_p99_`, `_max_`, `_mean_` (since the last scrape), and `nodejs_eventloop_lag_seconds`
 * (one setImmediate's delay at scrape time).
 * The README's "Metrics" section lists every metric of the server.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { createProcedureMetrics } from './procedure-metrics';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const counter = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers });
  const gauge = (name: string, help: string) => new Gauge({ name, help, registers });
  const histogram = <L extends string = never>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []) =>
    new Histogram<L>({ name, help, buckets, labelNames, registers });
  return {
    registry,
    /** RED of the tRPC procedures (procedure-metrics.ts), measured in server/trpc/trpc.ts. */
    procedures: createProcedureMetrics(registry),
    transitions: counter('transitions_total', 'Committed state transitions (seen by the audit drain)', ['from', 'to']),
    matches: counter('matches_total', 'Matches made by this process'),
    matchWait: histogram(
      'match_wait_seconds',
      'How long each matched user waited in the queue (enqueue or re-queue -> matched), for matches made by this process',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    ),
    wsConnections: gauge('ws_connections', 'Open WebSocket connections on this process'),
    auditRows: counter('audit_rows_total', 'Outbox records committed to Postgres'),
    outboxLag: gauge('outbox_lag_seconds', 'Age of the newest record in the last drained batch'),
    deadLetters: counter('dead_letters_total', 'Records moved to dead_letters'),
    jobRuns: counter('job_runs_total', 'Runs of the background jobs, by job and outcome (ok, failed)', ['job', 'outcome']),
    jobDuration: histogram('job_duration_seconds', 'How long each background job run took', [0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10, 60], ['job']),
    cleanupRuns: counter('cleanup_runs_total', 'Maintenance runs by this process (as leader)'),
    cleanupFixed: counter('cleanup_fixed_total', 'Things the maintenance sweep fixed', ['kind']),
    cleanupDuration: gauge('cleanup_last_duration_seconds', 'Duration of the last maintenance run'),
    presenceSweep: counter('presence_signals_total', 'Drops and returns found by the presence sweep', ['kind']),
    mediaFailures: counter(
      'media_failures_total',
      'Calls whose video could not connect, as a client reports it (ICE failed after one restart, or nothing in time); they go on by text',
    ),
    uncaughtErrors: counter('uncaught_errors_total', 'Errors no handler caught (logged; the process keeps serving)', ['kind']),
    rateLimited: counter('rate_limited_total', 'Calls refused by a rate limit (safety/rate-limits.ts), by action', ['action']),
    reports: counter('reports_total', 'Reports of a partner accepted, by reason', ['reason']),
    sanctions: counter('sanctions_total', 'Sanctions recorded (ban, low_trust, warn, lift), automatic or by a moderator', ['kind']),
    refused: counter(
      'refused_requests_total',
      'Requests refused at the edge without an audit row: unauthenticated, malformed, over a bound, or forged webhooks',
      ['reason'],
    ),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
