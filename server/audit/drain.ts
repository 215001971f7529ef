/**
 * OutboxDrain: moves audit records from each pool's Redis outbox stream to Postgres, exactly once.
 *
 * Protocol: a consumer group `audit` per outbox; any server process runs a consumer. A batch is
 * read with XREADGROUP, committed to Postgres in one transaction (idempotent by event id), and
 * only then XACKed and XDELed, so trimming never removes an unacknowledged entry. A crash between
 * commit and ack redelivers the batch, which the ON CONFLICT clauses absorb. Entries left pending
 * by a dead consumer are taken over with XAUTOCLAIM; an entry delivered OUTBOX_MAX_DELIVERIES
 * times without success goes to `dead_letters` with its error and stops blocking the rest.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../infra/logger';
import type { Db } from '../infra/postgres';
import type { Keys } from '../state/keys';
import { parseEntry, streamIdTime, PoisonRecordError, type OutboxEntry, type OutboxRecord } from './records';
import { applyRecords } from './writer';
import { deadLetters } from './schema';

export const AUDIT_GROUP = 'audit';

export interface DrainOptions {
  batch: number;
  blockMs: number;
  claimIdleMs: number;
  maxDeliveries: number;
}

export interface DrainHooks {
  /** Every record committed, once per successful commit (feeds transitions_total). */
  onRecords?(records: OutboxRecord[]): void;
  onBatch?(rows: number, lagMs: number): void;
  onError?(e: unknown): void;
  onDeadLetter?(entry: { streamId: string; pool: string }, error: string): void;
}

type StreamReply = Array<[string, Array<[string, string[]]>]> | null;

export class OutboxDrain {
  readonly consumer = `c-${process.pid}-${randomUUID().slice(0, 8)}`;
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly groups = new Set<string>();
  private readonly failures = new Map<string, { count: number; error: string }>();
  private lastClaim = 0;

  constructor(
    private readonly redis: Redis,
    private readonly db: Db,
    private readonly keys: Keys,
    private readonly pools: () => Promise<string[]>,
    private readonly opts: DrainOptions,
    private readonly log: Logger,
    private readonly hooks: DrainHooks = {},
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stop after the batch in hand; pending entries stay for another consumer. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    let backoff = 50;
    while (this.running) {
      try {
        await this.drainOnce(this.opts.blockMs);
        backoff = 50;
      } catch (e) {
        this.hooks.onError?.(e);
        this.log.warn({ err: e }, 'audit drain failed; retrying');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 2000); // Postgres or Redis down: retry, never give up
      }
    }
  }

  /** One read-write-ack cycle over every pool. Returns the number of entries committed. */
  async drainOnce(blockMs = 0): Promise<number> {
    const pools = await this.pools();
    for (const p of pools) await this.ensureGroup(p);
    let done = 0;
    if (Date.now() - this.lastClaim >= Math.min(this.opts.claimIdleMs, 5000)) {
      this.lastClaim = Date.now();
      for (const p of pools) done += await this.claim(p);
    }
    const streams = pools.map((p) => this.keys.outbox(p));
    const args: Array<string | number> = ['GROUP', AUDIT_GROUP, this.consumer, 'COUNT', this.opts.batch];
    if (blockMs > 0) args.push('BLOCK', blockMs);
    args.push('STREAMS', ...streams, ...streams.map(() => '>'));
    const reply = (await this.redis.call('XREADGROUP', ...args)) as StreamReply;
    for (const [stream, entries] of reply ?? []) {
      const pool = pools[streams.indexOf(stream)] ?? '';
      done += await this.commit(pool, entries);
    }
    return done;
  }

  /** Drain until the outboxes are empty (graceful shutdown, tests). */
  async flush(maxRounds = 1000): Promise<void> {
    for (let i = 0; i < maxRounds; i++) if ((await this.drainOnce(0)) === 0) return;
  }

  private async ensureGroup(pool: string): Promise<void> {
    if (this.groups.has(pool)) return;
    try {
      await this.redis.xgroup('CREATE', this.keys.outbox(pool), AUDIT_GROUP, '0', 'MKSTREAM');
    } catch (e) {
      if (!String(e).includes('BUSYGROUP')) throw e;
    }
    this.groups.add(pool);
  }

  private async claim(pool: string): Promise<number> {
    const r = (await this.redis.call('XAUTOCLAIM', this.keys.outbox(pool), AUDIT_GROUP, this.consumer, this.opts.claimIdleMs, '0-0', 'COUNT', this.opts.batch)) as [
      string,
      Array<[string, string[]] | null>,
    ];
    const entries = (r[1] ?? []).filter((e): e is [string, string[]] => Array.isArray(e));
    return entries.length ? this.commit(pool, entries) : 0;
  }

  private async commit(pool: string, raw: Array<[string, string[]]>): Promise<number> {
    if (raw.length === 0) return 0;
    const parsed: OutboxEntry[] = [];
    const poison: Array<{ id: string; error: string; fields: string[] }> = [];
    for (const [id, fields] of raw) {
      try {
        parsed.push(parseEntry(pool, id, fields));
      } catch (e) {
        poison.push({ id, error: String(e instanceof PoisonRecordError ? e.message : e), fields });
      }
    }
    try {
      await applyRecords(
        this.db,
        parsed.map((p) => p.rec),
      );
      await this.ack(pool, parsed.map((p) => p.streamId));
      this.hooks.onRecords?.(parsed.map((p) => p.rec));
    } catch (batchError) {
      // One bad record must not block the rest: apply one by one, keep the failures pending.
      if (isConnectionError(batchError)) throw batchError;
      for (const p of parsed) {
        try {
          await applyRecords(this.db, [p.rec]);
          await this.ack(pool, [p.streamId]);
          this.hooks.onRecords?.([p.rec]);
        } catch (e) {
          if (isConnectionError(e)) throw e;
          await this.recordFailure(pool, p.streamId, p.rec, String(e));
        }
      }
    }
    for (const p of poison) await this.deadLetter(pool, p.id, { fields: p.fields }, p.error, 1);
    const newest = raw[raw.length - 1]![0];
    this.hooks.onBatch?.(parsed.length, Math.max(0, Date.now() - streamIdTime(newest)));
    return raw.length;
  }

  private async recordFailure(pool: string, id: string, rec: unknown, error: string): Promise<void> {
    const f = this.failures.get(id) ?? { count: 0, error };
    f.count += 1;
    f.error = error;
    this.failures.set(id, f);
    if (f.count >= this.opts.maxDeliveries) {
      this.failures.delete(id);
      await this.deadLetter(pool, id, rec, error, f.count);
    }
  }

  private async deadLetter(pool: string, id: string, payload: unknown, error: string, attempts: number): Promise<void> {
    await this.db
      .insert(deadLetters)
      .values({ id: `outbox:${pool}:${id}`, at: new Date(), source: 'audit_outbox', payload: payload, error, attempts, status: 'pending' })
      .onConflictDoNothing();
    await this.ack(pool, [id]);
    this.hooks.onDeadLetter?.({ streamId: id, pool }, error);
    this.log.error({ pool, id, error }, 'audit record moved to dead_letters');
  }

  private async ack(pool: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const key = this.keys.outbox(pool);
    await this.redis.multi().xack(key, AUDIT_GROUP, ...ids).xdel(key, ...ids).exec();
  }
}

function isConnectionError(e: unknown): boolean {
  const s = String((e as { code?: string })?.code ?? '') + String(e);
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection terminated|connect|timeout|57P01|57P03|08006|08001/i.test(s);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
