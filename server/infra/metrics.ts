/**
 * Prometheus metrics: one registry per server (no global state), default process metrics included.
 * Those defaults are the process's memory and resources, read by `npm run soak` (bench/soak) and
 * not duplicated here: `process_resident_memory_bytes`, `nodejs_heap_size_used_bytes`, and
 * `nodejs_active_resources{type}`, which is process.getActiveResourcesInfo() grouped by type at
 * each scrape (`Timeout`: timers that keep the process alive, so unref'd ones are not counted;
 * `TCPSocketWrap`: TCP sockets).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const m = {
    registry,
    transitions: new Counter({
      name: 'transitions_total',
      help: 'Committed state transitions (seen by the audit drain)',
      labelNames: ['from', 'to'],
      registers: [registry],
    }),
    matches: new Counter({ name: 'matches_total', help: 'Matches made by this process', registers: [registry] }),
    matchWait: new Histogram({
      name: 'match_wait_seconds',
      help: 'How long each matched user waited in the queue (enqueue or re-queue -> matched), for matches made by this process',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    wsConnections: new Gauge({ name: 'ws_connections', help: 'Open WebSocket connections on this process', registers: [registry] }),
    auditRows: new Counter({ name: 'audit_rows_total', help: 'Outbox records committed to Postgres', registers: [registry] }),
    outboxLag: new Gauge({ name: 'outbox_lag_seconds', help: 'Age of the newest record in the last drained batch', registers: [registry] }),
    deadLetters: new Counter({ name: 'dead_letters_total', help: 'Records moved to dead_letters', registers: [registry] }),
    jobRuns: new Counter({
      name: 'job_runs_total',
      help: 'Runs of the background jobs, by job and outcome (ok, failed)',
      labelNames: ['job', 'outcome'],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'job_duration_seconds',
      help: 'How long each background job run took',
      labelNames: ['job'],
      buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10, 60],
      registers: [registry],
    }),
    cleanupRuns: new Counter({ name: 'cleanup_runs_total', help: 'Maintenance runs by this process (as leader)', registers: [registry] }),
    cleanupFixed: new Counter({ name: 'cleanup_fixed_total', help: 'Things the maintenance sweep fixed', labelNames: ['kind'], registers: [registry] }),
    cleanupDuration: new Gauge({ name: 'cleanup_last_duration_seconds', help: 'Duration of the last maintenance run', registers: [registry] }),
    presenceSweep: new Counter({
      name: 'presence_signals_total',
      help: 'Drops and returns found by the presence sweep',
      labelNames: ['kind'],
      registers: [registry],
    }),
    uncaughtErrors: new Counter({
      name: 'uncaught_errors_total',
      help: 'Errors no handler caught (logged; the process keeps serving)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    refused: new Counter({
      name: 'refused_requests_total',
      help: 'Requests refused at the edge without an audit row: unauthenticated, malformed, over a bound, or forged webhooks',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
  return m;
}
export type Metrics = ReturnType<typeof createMetrics>;
