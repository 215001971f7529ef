/**
 * The services of the composition root (server/app.ts) that need only settings and collaborators
 * already built: each is made here from the Config, with its metrics and audit hooks, so
 * app.ts reads as the order things are made in and the few places where services need each other.
 */
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import type { RedisClient } from './infra/redis';
import type { WebSocket } from 'ws';
import type { DbGuard } from './audit/db-guard';
import { OutboxDrain } from './audit/drain';
import { AuditRecorder, recordRecovery, type RecoveryInput } from './audit/recorder';
import { AuditRetention } from './audit/retention';
import { ErrorSpool } from './audit/spool';
import { EpochGuard, type DataGuard } from './checkpoint/epoch';
import { PoolEpochs } from './checkpoint/pool-epochs';
import type { Checkpointer } from './checkpoint/snapshot';
import type { Config } from './config';
import type { Logger } from './infra/logger';
import type { Metrics } from './infra/metrics';
import type { Database } from './infra/postgres';
import { MatchService, type MatchWiring } from './match/service';
import { CleanupJob } from './presence/cleanup';
import { PresenceService } from './presence/service';
import type { Clock } from './shared/clock';
import type { JobReporter } from './shared/periodic';
import type { Keys } from './state/keys';
import type { StateStore } from './state/store';
import { Outcome, RecoveryFailure, RecoveryStrategy } from './resilience/model';

/** What the composition root has built; each factory below takes the parts it uses. */
interface Built {
  redis: RedisClient;
  drainConn: RedisClient;
  database: Database;
  store: StateStore;
  audit: AuditRecorder;
  checkpoints: Checkpointer;
  metrics: Metrics;
  clock: Clock;
  log: Logger;
}

/** Every background job's runs, counted by name and outcome and timed (job_runs_total, job_duration_seconds). */
export function jobReporter(metrics: Metrics): JobReporter {
  return (job, durationMs, ok) => {
    metrics.jobRuns.inc({ job, outcome: ok ? 'ok' : 'failed' });
    metrics.jobDuration.observe({ job }, durationMs / 1000);
  };
}

export function auditRecorder(cfg: Config, redis: RedisClient, keys: Keys, log: Logger, clock: Clock, metrics: Metrics): AuditRecorder {
  const spool = new ErrorSpool({ dir: join(cfg.DATA_DIR, 'audit-spool'), maxBytes: cfg.AUDIT_SPOOL_MAX_BYTES });
  const opts = { appendTimeoutMs: cfg.AUDIT_APPEND_TIMEOUT_MS, spoolRetryMs: cfg.AUDIT_SPOOL_RETRY_MS, onJobRun: jobReporter(metrics) };
  return new AuditRecorder(redis, keys, spool, opts, log, clock);
}

export function auditRetention(cfg: Config, database: Database, log: Logger, clock: Clock, metrics: Metrics): AuditRetention {
  const opts = {
    retentionDays: cfg.AUDIT_RETENTION_DAYS,
    privateRetentionDays: cfg.CHAT_RETENTION_DAYS,
    monthsAhead: cfg.AUDIT_PARTITIONS_AHEAD,
    intervalMs: cfg.AUDIT_MAINTENANCE_INTERVAL_MS,
    onJobRun: jobReporter(metrics),
  };
  return new AuditRetention(database.db, opts, log, clock);
}

export function matchService(cfg: Config, d: Pick<Built, 'store' | 'database' | 'metrics' | 'log'>, wiring: MatchWiring): MatchService {
  const opts = {
    tickMs: cfg.MATCH_SWEEP_INTERVAL_MS,
    pools: { languages: cfg.POOL_LANGUAGES, regions: cfg.POOL_REGIONS },
    maxBlocks: cfg.BLOCKS_MAX_PER_USER,
    onJobRun: jobReporter(d.metrics),
  };
  return new MatchService(d.store, d.database, d.metrics, d.log, opts, wiring);
}

export function presenceService(cfg: Config, store: StateStore, log: Logger, metrics: Metrics): PresenceService<WebSocket> {
  const opts = {
    graceMs: cfg.RECONNECT_GRACE_MS,
    leaveGraceMs: cfg.LEAVE_GRACE_MS,
    timeoutMs: cfg.HEARTBEAT_TIMEOUT_MS,
    refreshMs: cfg.HEARTBEAT_INTERVAL_MS,
    sweepMs: cfg.PRESENCE_SWEEP_INTERVAL_MS,
    onJobRun: jobReporter(metrics),
  };
  return new PresenceService<WebSocket>(store, opts, log, {
    onSweep: (r) => {
      metrics.presenceSweep.inc({ kind: 'silent' }, r.silent);
      metrics.presenceSweep.inc({ kind: 'disconnected' }, r.disconnected);
      metrics.presenceSweep.inc({ kind: 'back' }, r.back);
    },
  });
}

export function cleanupJob(cfg: Config, d: Pick<Built, 'redis' | 'store' | 'clock' | 'log' | 'metrics' | 'audit'>): CleanupJob {
  const opts = {
    intervalMs: cfg.CLEANUP_INTERVAL_MS,
    lockTtlMs: cfg.CLEANUP_LOCK_TTL_MS,
    batch: cfg.CLEANUP_BATCH,
    idleTtlMs: cfg.IDLE_TTL_MS,
    evTtlMs: cfg.EVENT_HISTORY_TTL_MS,
    opTtlMs: cfg.IDEMPOTENCY_TTL_MS,
    onJobRun: jobReporter(d.metrics),
  };
  const { metrics } = d;
  return new CleanupJob(d.redis, d.store, d.clock, opts, d.log, {
    onRun: (r) => {
      // Audited as a recovery from stale state, so analysts see every run's counts and duration.
      const row = { failureType: RecoveryFailure.StaleState, strategy: RecoveryStrategy.Cleanup, outcome: Outcome.Recovered, durationMs: r.durationMs };
      void recordRecovery(d.audit, { ...row, context: { ...r } });
      metrics.cleanupRuns.inc();
      metrics.cleanupDuration.set(r.durationMs / 1000);
      metrics.cleanupFixed.inc({ kind: 'orphan' }, r.orphans);
      metrics.cleanupFixed.inc({ kind: 'broken_pair' }, r.brokenPairs);
      metrics.cleanupFixed.inc({ kind: 'ttl' }, r.ttlsSet);
    },
  });
}

/** The epoch guard: of the whole Redis, or pool by pool on a cluster (each master can lose its data alone). */
export function epochGuard(cfg: Config, d: Pick<Built, 'redis' | 'store' | 'checkpoints' | 'clock' | 'log' | 'audit'>): DataGuard {
  const opts = { lookbackMs: cfg.CHECKPOINT_LOOKBACK_MS, holdMs: cfg.REDIS_COMMAND_TIMEOUT_MS, idleTtlMs: cfg.IDLE_TTL_MS };
  const record = async (r: RecoveryInput) => {
    await recordRecovery(d.audit, r);
  };
  const Guard = d.redis instanceof Cluster ? PoolEpochs : EpochGuard;
  return new Guard(d.redis, d.store, d.checkpoints, d.clock, d.log, opts, record);
}

export function outboxDrain(cfg: Config, d: Pick<Built, 'drainConn' | 'database' | 'store' | 'log' | 'metrics'>, guard: DbGuard): OutboxDrain {
  const opts = {
    batch: cfg.OUTBOX_BATCH,
    blockMs: cfg.OUTBOX_BLOCK_MS,
    lingerMs: cfg.OUTBOX_LINGER_MS,
    claimIdleMs: cfg.OUTBOX_CLAIM_IDLE_MS,
    maxDeliveries: cfg.OUTBOX_MAX_DELIVERIES,
  };
  const { metrics, store } = d;
  const hooks = {
    onBatch: (rows: number) => metrics.auditRows.inc(rows),
    onLag: (lagMs: number) => metrics.outboxLag.set(lagMs / 1000),
    onDeadLetter: () => metrics.deadLetters.inc(),
  };
  // Every registered pool (bounded by POOL_LANGUAGES x POOL_REGIONS; one XREADGROUP for all on one Redis): a
  // record must never wait for its pool to look active.
  return new OutboxDrain(
    d.drainConn,
    d.database.db,
    store.keys,
    () => store.pools(),
    opts,
    d.log,
    {
      ...hooks,
      onRecords: (records) => {
        for (const r of records) if (r.kind === 'transition') metrics.transitions.inc({ from: r.from, to: r.to });
      },
    },
    guard,
  );
}
