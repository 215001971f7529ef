/**
 * AuditRecorder: how code outside the state scripts adds audit events (errors, recoveries, breaker
 * changes). A record is XADDed to the global pool's outbox, in the same `e` = JSON format the
 * Lua scripts write, and the drain carries it to Postgres. When Redis is unreachable (not ready,
 * or the XADD fails or is too slow), the record goes to the ErrorSpool instead; start() runs a
 * loop that, once Redis is back, appends spooled records to the outbox again (idempotent by event
 * id) and removes them from the spool.
 *
 * Recording never throws and never waits longer than appendTimeoutMs: the audit trail must not
 * turn one failure into two.
 */
import { randomUUID } from 'node:crypto';
import { pipelineAcross, type Queued, type RedisClient } from '../infra/redis';
import type { Logger } from '../infra/logger';
import type { Clock } from '../shared/clock';
import { DEFAULT_POOL, type Keys } from '../state/keys';
import type { BreakerRecord, ErrorRecord, OutboxRecord, RecoveryRecord } from './records';
import type { ErrorSpool } from './spool';
import { PeriodicJob, type JobReporter } from '../shared/periodic';
import type { Outcome, RecoveryFailure, RecoveryStrategy } from '../resilience/model';

/** Where records go: the recorder, or anything with the same shape (tests). */
export interface AuditSink {
  append(record: OutboxRecord, opts?: AppendOptions): Promise<void>;
  now(): number;
}

export interface AppendOptions {
  /**
   * false: while Redis is unreachable the record is dropped (with a log line) instead of spooled.
   * For records anyone on the internet can cause (a forged webhook): they must not fill the
   * spool's shared budget and crowd out the outage's own error and breaker records.
   */
  spool?: boolean;
}

export interface RecorderOptions {
  /** Told after each run of the spool return (metrics). */
  onJobRun?: JobReporter;
  /** Longest an XADD may take before the record is spooled instead (the XADD may still land; the event id absorbs the copy). */
  appendTimeoutMs: number;
  /** How often the spool is checked and drained while it holds records. */
  spoolRetryMs: number;
}

/** Largest message and serialized context kept per error row. */
const MESSAGE_MAX = 2000;
const CONTEXT_MAX = 16_384;

export class AuditRecorder implements AuditSink {
  /** Puts spooled records back into the outbox once Redis is back. */
  private readonly spoolJob: PeriodicJob<void>;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly spool: ErrorSpool,
    private readonly opts: RecorderOptions,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {
    this.spoolJob = new PeriodicJob({ name: 'audit spool return', intervalMs: opts.spoolRetryMs, runAtStart: true, log, onRun: opts.onJobRun }, async () => {
      if (this.redis.status !== 'ready' || !(await this.spool.hasPending())) return;
      const n = await this.drainSpool();
      if (n) this.log.info({ records: n }, 'spooled audit records returned to the outbox');
    });
  }

  now(): number {
    return this.clock.now();
  }

  async append(record: OutboxRecord, opts: AppendOptions = {}): Promise<void> {
    if (this.redis.status === 'ready') {
      try {
        await withTimeout(this.redis.xadd(this.keys.outbox(record.pool), '*', 'e', JSON.stringify(record)), this.opts.appendTimeoutMs);
        return;
      } catch {
        /* Redis went away mid-call: spool below */
      }
    }
    if (opts.spool === false) {
      this.log.warn({ kind: record.kind, eventId: record.eventId }, 'audit record dropped: Redis unreachable and not spooled');
      return;
    }
    try {
      if (!(await this.spool.append(record))) this.log.warn({ dropped: this.spool.dropped, kind: record.kind }, 'audit spool full; record dropped');
    } catch (e) {
      this.log.error({ err: e, record }, 'audit record lost: neither Redis nor the spool file took it');
    }
  }

  /** Moves spooled records back into the outbox; returns how many. Throws while Redis is still down. */
  async drainSpool(): Promise<number> {
    return this.spool.drain(async (records) => {
      const res = await pipelineAcross(
        this.redis,
        records.map((r): Queued => {
          const key = this.keys.outbox(r.pool ?? DEFAULT_POOL);
          return [key, (p) => p.xadd(key, '*', 'e', JSON.stringify(r))];
        }),
      );
      const failed = res.find(([err]) => err);
      if (failed || res.length !== records.length) throw new Error('re-appending spooled audit records failed', { cause: failed?.[0] });
    });
  }

  start(): void {
    this.spoolJob.start();
  }

  stop(): Promise<void> {
    return this.spoolJob.stop();
  }
}

export interface ErrorInput {
  category: string;
  type: string;
  severity: string;
  message: string;
  code?: string | null;
  operation?: string | null;
  strategy?: string | null;
  recovered?: boolean | null;
  userId?: string | null;
  /** Kept in context (the errors table has no column for them). */
  pool?: string | null;
  dependency?: string | null;
  outcome?: string | null;
  context?: Record<string, unknown> | null;
  /** Epoch ms; default: the recorder's clock. */
  at?: number;
}

/** Adds one row to `errors` (through the outbox, or the spool when Redis is down). Returns its event id. */
export async function recordError(sink: AuditSink, e: ErrorInput): Promise<string> {
  const rec: ErrorRecord = {
    kind: 'error',
    ...base(sink, e.at),
    category: e.category,
    type: e.type,
    severity: e.severity,
    code: e.code ?? null,
    operation: e.operation ?? null,
    message: truncate(e.message, MESSAGE_MAX),
    context: contextWith(e.context, { pool: e.pool, dependency: e.dependency, outcome: e.outcome }),
    strategy: e.strategy ?? null,
    recovered: e.recovered ?? null,
    userId: e.userId ?? null,
  };
  await sink.append(rec);
  return rec.eventId;
}

export interface RecoveryInput {
  failureType: RecoveryFailure;
  strategy: RecoveryStrategy;
  outcome: Outcome;
  durationMs: number;
  operation?: string | null;
  pool?: string | null;
  context?: Record<string, unknown> | null;
  at?: number;
}

/** Adds one row to `recoveries`. Returns its event id. */
export async function recordRecovery(sink: AuditSink, r: RecoveryInput): Promise<string> {
  const rec: RecoveryRecord = {
    kind: 'recovery',
    ...base(sink, r.at),
    failureType: r.failureType,
    strategy: r.strategy,
    outcome: r.outcome,
    durationMs: Math.max(0, Math.round(r.durationMs)),
    context: contextWith(r.context, { operation: r.operation, pool: r.pool }),
  };
  await sink.append(rec);
  return rec.eventId;
}

/** Adds one row to `breaker_events` (state: closed | open | half_open | isolated). Returns its event id. */
export async function recordBreaker(sink: AuditSink, b: { dependency: string; state: string; instance?: string | null; at?: number }): Promise<string> {
  const rec: BreakerRecord = { kind: 'breaker', ...base(sink, b.at), dependency: b.dependency, state: b.state, instance: b.instance ?? null };
  await sink.append(rec);
  return rec.eventId;
}

function base(sink: AuditSink, at: number | undefined) {
  return { eventId: `rec-${randomUUID()}`, pool: DEFAULT_POOL, at: at ?? sink.now() };
}

/** The caller's context plus the given values the table has no column for (those set), bounded; null when empty. */
function contextWith(context: Record<string, unknown> | null | undefined, columnless: Record<string, string | null | undefined>): unknown {
  const ctx = { ...context, ...Object.fromEntries(Object.entries(columnless).filter(([, v]) => typeof v === 'string')) };
  if (Object.keys(ctx).length === 0) return null;
  let text: string;
  try {
    text = JSON.stringify(ctx);
  } catch {
    return { unserializable: true };
  }
  return text.length <= CONTEXT_MAX ? (JSON.parse(text) as unknown) : { truncated: true, preview: text.slice(0, 1000) };
}

/** Cut to at most `max` UTF-16 units without splitting a surrogate pair (half a pair cannot be stored). */
function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const code = s.charCodeAt(max - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
