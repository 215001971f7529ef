/**
 * OutboxDrain: moves audit records from each pool's Redis outbox stream to Postgres, exactly once.
 *
 * Protocol. One consumer group `audit` per outbox stream; any server process runs a consumer.
 *  - A batch is read with XREADGROUP, written to Postgres in one idempotent transaction
 *    (writer.ts), and only then XACKed and XDELed. The outbox is never trimmed any other way, so
 *    an unacknowledged entry is never removed. A crash between commit and acknowledge leaves the
 *    batch pending; whoever takes it over re-applies it and the event ids absorb the duplicates.
 *  - Entries pending longer than claimIdleMs (their consumer died or is stuck) are taken over with
 *    XAUTOCLAIM, by any consumer including this one.
 *  - Every Postgres write (the batch, its halves, dead letters) runs through `guard`: the Postgres
 *    policy, so its breaker sees an outage and opens, and while it is open the drain waits
 *    instead of hammering the database. The policy's refusals (breaker open, timeout, bulkhead
 *    full) are transient like a lost connection (db-errors.ts): never a reason to split a batch.
 *  - Postgres unreachable (a transient error, db-errors.ts): the batch in hand is held in memory
 *    and retried with backoff, and nothing new is read meanwhile, so at most two batches per pool
 *    (the one being written and the one read ahead) are in memory and in this consumer's pending
 *    list; the rest waits in Redis.
 *  - A batch Postgres rejects is split until the bad records are isolated (isolate.ts); the good
 *    ones commit. What becomes of a bad record (batch.ts): refused for its own values, or
 *    unreadable, it goes to dead_letters at once; otherwise it stays pending, is retried when
 *    claimed again, and goes there once its delivery count (XPENDING: it survives restarts and is
 *    shared by every process) reaches maxDeliveries. Strings Postgres cannot store never get that
 *    far: they are replaced as the record is read (records.ts, storable).
 *  - A record about a match whose match_created row is not in Postgres yet (another process has it
 *    in the batch it is writing) is deferred: this consumer keeps it, still pending, and applies it
 *    again soon (deferred.ts) instead of leaving it to a claim claimIdleMs later.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../infra/redis';
import type { Logger } from '../infra/logger';
import { exponentialDelay } from '../resilience/backoff';
import type { Db } from '../infra/postgres';
import type { Keys } from '../state/keys';
import { Acks } from './acks';
import { applyBatch, type BatchContext } from './batch';
import { direct, type DbGuard } from './db-guard';
import { DeferredRecords } from './deferred';
import { storeDeadLettersSafely } from './dead-letters';
import type { OutboxEntry, OutboxRecord } from './records';
import { claimIdle, ensureGroup, outboxLag, readNew, readOwnPending, type Batch } from './outbox-stream';

/** Backoff while Postgres or Redis is unreachable: quick first retry, then at most once a second. */
const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1000;
/** Look for abandoned entries at least this often, whatever claimIdleMs is. */
const MAX_CLAIM_INTERVAL_MS = 5000;
/** Claim passes per pool per round: bounds the time spent taking over a big pending list at once. */
const MAX_CLAIM_ROUNDS = 20;
/** How often onLag is measured: a gauge for dashboards, not worth a Redis round trip every round. */
const LAG_INTERVAL_MS = 1000;

export interface DrainOptions {
  batch: number;
  blockMs: number;
  claimIdleMs: number;
  maxDeliveries: number;
  /**
   * After a batch smaller than `batch`, wait this long before reading again, so that under light
   * load records reach Postgres a few dozen per transaction instead of one script call's worth
   * (each transaction is several round trips). 0: read again at once.
   */
  lingerMs?: number;
}

export interface DrainHooks {
  /** Every record committed, once per successful commit (feeds transitions_total). */
  onRecords?(records: OutboxRecord[]): void;
  /** A batch committed: its size. */
  onBatch?(rows: number): void;
  /** Outbox health: age of the oldest unacknowledged entry (0 when empty). */
  onLag?(lagMs: number): void;
  onError?(e: unknown): void;
  onDeadLetter?(entry: { streamId: string; pool: string }, error: string): void;
  /** Test seam: runs after the Postgres commit and before XACK; a throw leaves the batch pending, as a crash would. */
  afterCommit?(pool: string, entries: OutboxEntry[]): void | Promise<void>;
}

export class OutboxDrain {
  readonly consumer = `c-${process.pid}-${randomUUID().slice(0, 8)}`;
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly groups = new Set<string>();
  /** Read but not yet committed; retried before anything new is read. */
  private readonly held: Batch[] = [];
  /** The next read, started while the current batch is written (only after a full batch). */
  private prefetched: Promise<Batch[]> | null = null;
  private readonly acks: Acks;
  private readonly later: DeferredRecords;
  /**
   * A read failed (timed out on our side, say, while Redis was frozen): Redis may still have run
   * it and delivered entries to this consumer that we never saw. They are read back from this
   * consumer's own pending list first thing, instead of waiting claimIdleMs for a claim.
   */
  private reread: Map<string, string> | null = null;
  private lastClaim = 0;
  private lastLag = 0;
  private wake: (() => void) | null = null;
  private readonly batchContext: BatchContext;

  constructor(
    private readonly redis: RedisClient,
    private readonly db: Db,
    private readonly keys: Keys,
    private readonly pools: () => Promise<string[]>,
    private readonly opts: DrainOptions,
    private readonly log: Logger,
    private readonly hooks: DrainHooks = {},
    private readonly guard: DbGuard = direct,
  ) {
    this.acks = new Acks(redis, keys, (e) => hooks.onError?.(e));
    this.later = new DeferredRecords(opts.claimIdleMs, log);
    const afterCommit = hooks.afterCommit?.bind(hooks);
    this.batchContext = { redis, db, guard, log, consumer: this.consumer, maxDeliveries: opts.maxDeliveries, afterCommit };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stop after the batch in hand; pending entries stay for another consumer. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.acks.settled();
    // Entries of an unused read-ahead stay pending: flush() or another consumer takes them.
    await this.prefetched?.catch(() => undefined);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        const settled = await this.drainOnce(this.opts.blockMs);
        failures = 0;
        const linger = this.opts.lingerMs ?? 0;
        if (linger > 0 && settled > 0 && settled < this.opts.batch && !this.prefetched && this.running) await this.pause(linger);
      } catch (e) {
        this.hooks.onError?.(e);
        this.log.warn({ err: e, held: this.held.length }, 'audit drain failed; retrying');
        await this.pause(exponentialDelay(++failures, MIN_BACKOFF_MS, MAX_BACKOFF_MS));
      }
      await this.reportLag();
    }
  }

  /** One round: retry what is held, else claim abandoned entries and read new ones. Returns entries settled. */
  async drainOnce(blockMs = 0): Promise<number> {
    await this.acks.retryFailed();
    if (this.held.length) return this.processHeld();
    const retried = await this.retryDeferred();
    if (retried) return retried;
    const pools = await this.pools();
    for (const p of pools) await this.ensureGroup(p);
    if (this.reread) {
      // One page per pool and round, after the last id read; what this consumer keeps deferred on
      // purpose is left to its own schedule.
      for (const pool of pools) {
        const after = this.reread.get(pool) ?? '0';
        const page = await this.groupCall(() => readOwnPending(this.redis, this.consumer, this.keys.outbox(pool), after, this.opts.batch));
        if (page.length >= this.opts.batch) this.reread.set(pool, page.at(-1)![0]);
        else this.reread.delete(pool);
        const raw = page.filter(([id]) => !this.later.has(id));
        if (raw.length) this.held.push({ pool, raw });
      }
      if (this.reread.size === 0) this.reread = null;
      if (this.held.length) return this.processHeld();
    }
    let done = 0;
    const claimEvery = Math.max(10, Math.min(this.opts.claimIdleMs / 2, MAX_CLAIM_INTERVAL_MS));
    if (Date.now() - this.lastClaim >= claimEvery) {
      for (const p of pools) done += await this.claim(p);
      this.lastClaim = Date.now();
    }
    const pre = this.prefetched;
    this.prefetched = null;
    // A blocking read wakes in time for the next deferred record.
    const batches = pre ? await pre : await this.read(pools, done === 0 ? this.later.readBlockMs(blockMs) : 0);
    this.held.push(...batches);
    // A full batch means more is waiting: read the next one while this one is written to Postgres.
    if (batches.some((b) => b.raw.length >= this.opts.batch)) {
      const next = this.read(pools, 0);
      next.catch(() => undefined); // surfaces when awaited next round
      this.prefetched = next;
    }
    return done + (await this.processHeld());
  }

  private async read(pools: string[], blockMs: number): Promise<Batch[]> {
    const streams = pools.map((pool) => ({ pool, key: this.keys.outbox(pool) }));
    try {
      return await this.groupCall(() => readNew(this.redis, this.consumer, streams, this.opts.batch, blockMs));
    } catch (e) {
      this.reread = new Map();
      throw e;
    }
  }

  /** Drain until the outboxes are empty (graceful shutdown, tests). */
  async flush(maxRounds = 1000): Promise<void> {
    for (let i = 0; i < maxRounds; i++) if ((await this.drainOnce(0)) === 0) break;
    await this.acks.settled();
    await this.acks.retryFailed();
  }

  /** Age of the oldest unacknowledged outbox entry (acknowledged entries are deleted) and the backlog. */
  async lag(): Promise<{ lagMs: number; backlog: number }> {
    const keys = (await this.pools()).map((p) => this.keys.outbox(p));
    return outboxLag(this.redis, keys, Date.now());
  }

  /** Applies the deferred records that are due; returns how many settled. */
  private async retryDeferred(): Promise<number> {
    let done = 0;
    for (const [pool, g] of this.later.takeDue()) done += await this.commit(pool, g.raw, g.attempt + 1);
    return done;
  }

  private async processHeld(): Promise<number> {
    let done = 0;
    while (this.held.length) {
      const b = this.held[0]!;
      done += await this.commit(b.pool, b.raw); // throws on a transient failure: stays held
      this.held.shift();
    }
    return done;
  }

  private async claim(pool: string): Promise<number> {
    let cursor = '0-0';
    let done = 0;
    for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
      const page = await this.groupCall(() => claimIdle(this.redis, this.keys.outbox(pool), this.consumer, this.opts.claimIdleMs, cursor, this.opts.batch));
      if (page.entries.length) {
        this.held.push({ pool, raw: page.entries });
        done += await this.processHeld();
      }
      cursor = page.next;
      if (cursor === '0-0') break;
    }
    return done;
  }

  /** `attempt`: how many times this consumer has applied these entries (deferred records wait longer each time). */
  private async commit(pool: string, raw: Batch['raw'], attempt = 1): Promise<number> {
    const { committed, letters, deferred } = await applyBatch(this.batchContext, pool, this.keys.outbox(pool), raw);
    this.later.keep(pool, raw, deferred, attempt);
    const settled = [...committed.map((e) => e.streamId), ...letters.map((l) => l.streamId)];
    this.later.forget(settled);
    await storeDeadLettersSafely(this.db, letters, new Date(), this.log, this.guard);
    this.acks.send(pool, settled);
    if (committed.length) {
      this.hooks.onRecords?.(committed.map((e) => e.rec));
      this.hooks.onBatch?.(committed.length);
    }
    for (const l of letters) {
      this.hooks.onDeadLetter?.({ streamId: l.streamId, pool }, l.error);
      this.log.error({ pool, id: l.streamId, kind: l.kind, error: l.error, attempts: l.attempts }, 'audit record moved to dead_letters');
    }
    return committed.length + letters.length;
  }

  private async ensureGroup(pool: string): Promise<void> {
    if (this.groups.has(pool)) return;
    await ensureGroup(this.redis, this.keys.outbox(pool));
    this.groups.add(pool);
  }

  /** A group command; NOGROUP (Redis came back empty) makes the next round recreate the groups. */
  private async groupCall<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (e) {
      if (String(e).includes('NOGROUP')) this.groups.clear();
      throw e;
    }
  }

  private async reportLag(): Promise<void> {
    if (!this.hooks.onLag || Date.now() - this.lastLag < LAG_INTERVAL_MS) return;
    this.lastLag = Date.now();
    try {
      this.hooks.onLag((await this.lag()).lagMs);
    } catch {
      /* Redis unreachable: the next round reports */
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
