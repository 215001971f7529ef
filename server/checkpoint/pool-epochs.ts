/**
 * PoolEpochs: the epoch guard of a Redis Cluster, pool by pool.
 *
 * On one Redis the data is there or gone as a whole, and EpochGuard checks it on every reconnect.
 * A cluster loses data one master at a time (a master and its replicas restarted empty), and a
 * process may never see a connection drop for it. So there each state script checks its own
 * pool: it refuses a call while the pool's epoch key is missing (lib.lua begin_call), and the
 * caller asks this guard to check the pool, then calls again. Only the pools of the master that
 * lost its data are rebuilt; the others never notice.
 *
 * The check: one process claims the rebuild by setting the epoch to 'R' .. <new epoch> (NX, with
 * a lease); the scripts keep refusing every call but the rebuild's own (force with `rebuild`). It
 * restores the pool's users from their latest checkpoints (restore.ts, versions continued from
 * the audit trail) and then sets the epoch for good. Others wait for that (or for the lease to
 * lapse, if the winner died). A pool with no checkpoint to restore and no audit trail at all is
 * simply new: its epoch is started and nothing is recorded.
 *
 * The version floors (version-floors.ts) need to know when data was lost: the rebuild writes the
 * time to `<root>:lost`, and every process reads it at most once a second while it is asked.
 */
import type { RedisClient } from '../infra/redis';
import type { RecoveryInput } from '../audit/recorder';
import type { Logger } from '../infra/logger';
import type { Clock } from '../shared/clock';
import { newEpoch } from '../state/script-runner';
import type { StateStore } from '../state/store';
import { Outcome, RecoveryFailure, RecoveryStrategy } from '../resilience/model';
import type { DataGuard, EpochOptions } from './epoch';
import { RedisNotReadyError } from './epoch';
import { restoreUsers } from './restore';
import type { Checkpointer } from './snapshot';

// A rebuild claim lives this long unless the rebuild finishes first: far longer than any rebuild.
const LEASE_MS = 60_000;
// While another process rebuilds a pool, look again this often.
const POLL_MS = 50;
// How stale this process's idea of the last loss may be.
const LOST_REFRESH_MS = 1000;

export class PoolEpochs implements DataGuard {
  /** The check of each pool in progress in this process (callers of one pool share it). */
  private readonly checking = new Map<string, Promise<void>>();
  private lostAt = 0;
  private lostReadAt = -Infinity;

  constructor(
    private readonly redis: RedisClient,
    private readonly store: StateStore,
    private readonly checkpoints: Checkpointer,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: EpochOptions,
    private readonly onRecovery: (r: RecoveryInput) => Promise<void> | void,
  ) {}

  /** Nothing to check as a whole: each pool is checked when its scripts first refuse a call. */
  async check(): Promise<void> {
    await this.readLost();
  }
  watch(): void {}
  stop(): void {}
  hold<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }
  checked(): Promise<void> {
    return Promise.resolve();
  }

  floorsUntil(): number {
    if (this.clock.now() - this.lostReadAt >= LOST_REFRESH_MS) void this.readLost().catch(() => undefined);
    return this.lostAt ? this.lostAt + this.opts.idleTtlMs : 0;
  }

  /** Makes sure `pool` holds its data: rebuilt from checkpoints if its master lost it, started if new. */
  checkPool(pool: string): Promise<void> {
    let p = this.checking.get(pool);
    if (!p) {
      p = this.checkLoop(pool).finally(() => this.checking.delete(pool));
      this.checking.set(pool, p);
    }
    return p;
  }

  private async checkLoop(pool: string): Promise<void> {
    const key = this.store.keys.epoch(pool);
    const started = this.clock.now();
    for (;;) {
      const value = await this.redis.get(key);
      if (value !== null && !value.startsWith('R')) return this.readLost();
      if (value === null) {
        const epoch = newEpoch(this.clock);
        if ((await this.redis.set(key, `R${epoch}`, 'PX', LEASE_MS, 'NX')) === 'OK') return this.rebuild(pool, epoch, started);
        continue;
      }
      // Another process is rebuilding the pool: wait for it, as long as a command may take.
      if (this.clock.now() - started >= this.opts.holdMs) throw new RedisNotReadyError(this.opts.holdMs);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  private async rebuild(pool: string, epoch: string, started: number): Promise<void> {
    const key = this.store.keys.epoch(pool);
    const since = new Date(this.clock.now() - this.opts.lookbackMs);
    try {
      const snaps = (await this.checkpoints.latestUsersSince(since)).filter((s) => s.pool === pool);
      if (snaps.length === 0) {
        // A new pool, or one lost while quiet (nobody in it lately): nothing to rebuild or to
        // record as a recovery. Where an audit trail exists, returning users' versions carry on.
        if (await this.checkpoints.hasHistory()) await this.markLost(key, epoch);
        else await this.redis.set(key, epoch);
        return;
      }
      const floors = await this.checkpoints.lastVersions(snaps.map((s) => s.userId));
      const r = await restoreUsers(
        this.redis,
        this.store.withGuard((_pool, fn) => fn()),
        snaps,
        'recovery:epoch',
        floors,
        true,
      );
      await this.markLost(key, epoch);
      this.log.warn(
        { pool, ...r, checkpoints: snaps.length, durationMs: this.clock.now() - started },
        "a cluster pool's data was missing: its users rebuilt from checkpoints",
      );
      await this.audit(pool, Outcome.Recovered, started, { pool, ...r, checkpoints: snaps.length });
      await this.store.active.refresh([pool]).catch((err: unknown) => this.log.warn({ err }, 'reactivating a restored pool failed'));
    } catch (err) {
      this.log.error({ err, pool }, 'rebuilding a cluster pool from checkpoints failed');
      // The pool's calls must not wait for a rebuild that is over; versions still carry over.
      await this.markLost(key, epoch).catch(() => undefined);
      await this.audit(pool, Outcome.Failed, started, { pool, error: String(err) });
    }
  }

  private audit(pool: string, outcome: Outcome, started: number, context: Record<string, unknown>) {
    return this.onRecovery({
      failureType: RecoveryFailure.RedisDataLoss,
      strategy: RecoveryStrategy.RestoreFromCheckpoint,
      outcome,
      durationMs: this.clock.now() - started,
      context: { ...context, pool },
    });
  }

  /** The pool's epoch for good, and the time of the loss for every process's floors. */
  private async markLost(key: string, epoch: string): Promise<void> {
    const now = this.clock.now();
    await this.redis.set(this.store.keys.lost(), String(now));
    await this.redis.set(key, epoch);
    this.lostAt = Math.max(this.lostAt, now);
  }

  private async readLost(): Promise<void> {
    this.lostReadAt = this.clock.now();
    this.lostAt = Math.max(this.lostAt, Number((await this.redis.get(this.store.keys.lost())) ?? 0));
  }
}
