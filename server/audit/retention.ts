/**
 * AuditRetention: keeps the monthly partitions of the event tables in shape. Each run, per table:
 *  - creates the current month and the next `monthsAhead` months if missing. Rows that landed in
 *    the default partition for such a month (the job was not running) are moved into it first,
 *    under a lock on the default partition, because Postgres refuses to attach a range the
 *    default partition already holds rows for;
 *  - detaches and drops months entirely older than `retentionDays`;
 *  - deletes default-partition rows older than `retentionDays`; for a private table (chat
 *    transcripts: PRIVATE_TABLES), every row older than its own period (`privateRetentionDays`),
 *    so people's words are kept no longer than said, not up to a month more. Its new monthly
 *    partitions are closed to the analyst role, like the table (migration 0005);
 *  - deletes operator_actions rows (the console's action log, not partitioned: a few rows a day)
 *    older than `retentionDays`, the audit trail's own period, which the log explains.
 * Each step takes a transaction-level advisory lock per table and re-checks what exists, so
 * several processes can run the job at once without stepping on each other; and a short
 * lock_timeout, so DDL never queues for long behind an analyst query while inserts queue behind
 * it. A failed step is logged and retried next run.
 */
import { lt, sql } from 'drizzle-orm';
import type { Logger } from '../infra/logger';
import type { Db } from '../infra/postgres';
import type { Clock } from '../shared/clock';
import {
  PARTITIONED_TABLES,
  PRIVATE_TABLES,
  addMonths,
  defaultPartitionName,
  monthStart,
  partitionName,
  planPartitions,
  retentionCutoff,
  type Month,
  type PartitionPolicy,
} from './partitions';
import { operatorActions } from '../operators/schema';
import { rowsOf } from './writer';
import { PeriodicJob, type JobReporter } from '../shared/periodic';

export interface RetentionOptions extends PartitionPolicy {
  /** The retention of the private tables (chat transcripts), in days; `retentionDays` when absent. */
  privateRetentionDays?: number;
  /** Time between runs. */
  intervalMs: number;
  /** Told after each run (metrics). */
  onJobRun?: JobReporter;
}

export interface RetentionReport {
  created: string[];
  dropped: string[];
  /** Rows moved out of default partitions into new monthly ones. */
  moved: number;
  /** Rows past retention deleted from default partitions (and private tables). */
  expired: number;
  /** operator_actions rows past retention deleted. */
  actionsExpired: number;
  failures: string[];
}

/** Advisory lock keys: a constant namespace plus the table's position. */
const LOCK_NAMESPACE = 0x5256_4155; // "RVAU"
/** Longest a DDL statement waits for a lock before giving up until the next run: inserts queue behind it meanwhile. */
const LOCK_TIMEOUT_MS = 5000;

export class AuditRetention {
  private readonly job: PeriodicJob<RetentionReport>;

  constructor(
    private readonly db: Db,
    private readonly opts: RetentionOptions,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {
    this.job = new PeriodicJob({ name: 'audit retention', intervalMs: opts.intervalMs, runAtStart: true, log, onRun: opts.onJobRun }, () => this.runOnce());
  }

  /** Runs now, then every intervalMs. */
  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One run now; throws what it threw. A scheduled run at the same time is kept apart by the advisory locks. */
  async runOnce(): Promise<RetentionReport> {
    const report: RetentionReport = { created: [], dropped: [], moved: 0, expired: 0, actionsExpired: 0, failures: [] };
    const now = this.clock.now();
    for (const [i, table] of PARTITIONED_TABLES.entries()) {
      const step = async (what: string, fn: () => Promise<void>) => {
        try {
          await fn();
        } catch (e) {
          report.failures.push(`${what}: ${String(e)}`);
          this.log.warn({ err: e, table, step: what }, 'audit retention step failed; retrying next run');
        }
      };
      const priv = PRIVATE_TABLES.has(table);
      const policy = { ...this.opts, retentionDays: (priv ? this.opts.privateRetentionDays : undefined) ?? this.opts.retentionDays };
      const existing = await this.partitions(table);
      const plan = planPartitions(table, existing, now, policy);
      for (const month of plan.create) {
        await step(`create ${partitionName(table, month)}`, async () => {
          const moved = await this.locked(i, (tx) => createMonth(tx, table, month, priv));
          if (moved !== null) {
            report.created.push(partitionName(table, month));
            report.moved += moved;
          }
        });
      }
      for (const name of plan.drop) {
        await step(`drop ${name}`, async () => {
          const done = await this.locked(i, async (tx) => {
            if (!(await exists(tx, name))) return false; // another process dropped it
            await tx.execute(sql.raw(`ALTER TABLE "${table}" DETACH PARTITION "${name}"`));
            await tx.execute(sql.raw(`DROP TABLE "${name}"`));
            return true;
          });
          if (done) report.dropped.push(name);
        });
      }
      // A private table: expired row by row across all its partitions; the others: in the default partition only.
      const expiring = priv ? table : defaultPartitionName(table);
      await step(`expire ${expiring}`, async () => {
        const cutoff = retentionCutoff(now, policy.retentionDays).toISOString();
        const n = await this.locked(i, async (tx) => {
          const r = await tx.execute(
            sql`WITH gone AS (DELETE FROM ${sql.raw(`"${expiring}"`)} WHERE at < ${cutoff}::timestamptz RETURNING 1) SELECT count(*)::int AS n FROM gone`,
          );
          return rowsOf<{ n: number }>(r)[0]?.n ?? 0;
        });
        report.expired += n;
      });
    }
    try {
      const cutoff = retentionCutoff(now, this.opts.retentionDays);
      // Idempotent: several processes may run it at once without a lock.
      const gone = await this.db.delete(operatorActions).where(lt(operatorActions.at, cutoff)).returning({ id: operatorActions.id });
      report.actionsExpired = gone.length;
    } catch (e) {
      report.failures.push(`expire operator_actions: ${String(e)}`);
      this.log.warn({ err: e, table: 'operator_actions' }, 'audit retention step failed; retrying next run');
    }
    if (report.created.length || report.dropped.length || report.expired || report.actionsExpired) this.log.info(report, 'audit partitions maintained');
    return report;
  }

  private async partitions(table: string): Promise<string[]> {
    const r = await this.db.execute(sql`SELECT c.relname AS name FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = ${table} AND p.relnamespace = to_regnamespace(current_schema())`);
    return rowsOf<{ name: string }>(r).map((x) => x.name);
  }

  /** Runs fn in a transaction holding the table's advisory lock (waiting for it at most LOCK_TIMEOUT_MS). */
  private async locked<T>(tableIndex: number, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql.raw(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT_MS}ms'`));
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE}, ${tableIndex})`);
      return fn(tx);
    });
  }
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

async function exists(tx: Tx, relation: string): Promise<boolean> {
  const r = await tx.execute(sql`SELECT to_regclass(${`"${relation}"`}) IS NOT NULL AS ok`);
  return rowsOf<{ ok: boolean }>(r)[0]?.ok === true;
}

/**
 * Creates one monthly partition, moving in any rows the default partition holds for it (and, for a
 * private table, closing it to the analyst role). Returns rows moved, or null if it exists.
 */
async function createMonth(tx: Tx, table: string, month: Month, priv: boolean): Promise<number | null> {
  const name = partitionName(table, month);
  if (await exists(tx, name)) return null; // another process created it
  const def = defaultPartitionName(table);
  const lo = monthStart(month).toISOString();
  const hi = monthStart(addMonths(month, 1)).toISOString();
  await tx.execute(sql.raw(`CREATE TABLE "${name}" (LIKE "${table}" INCLUDING DEFAULTS)`));
  // The analyst role is granted every new table by default (migration 0003); not this one.
  if (priv)
    await tx.execute(
      sql.raw(`DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'analyst') THEN REVOKE ALL ON "${name}" FROM analyst; END IF; END $$`),
    );
  await tx.execute(sql.raw(`LOCK TABLE "${def}" IN ACCESS EXCLUSIVE MODE`));
  const moved = await tx.execute(
    sql.raw(
      `WITH moved AS (DELETE FROM "${def}" WHERE at >= '${lo}' AND at < '${hi}' RETURNING *), ` +
        `copied AS (INSERT INTO "${name}" SELECT * FROM moved RETURNING 1) SELECT count(*)::int AS n FROM copied`,
    ),
  );
  await tx.execute(sql.raw(`ALTER TABLE "${table}" ATTACH PARTITION "${name}" FOR VALUES FROM ('${lo}') TO ('${hi}')`));
  return rowsOf<{ n: number }>(moved)[0]?.n ?? 0;
}
