/**
 * CleanupJob: the maintenance sweep, run by one leader at a time across server processes.
 *
 * Leadership is a Redis lock with expiry (`<root>:lock:cleanup`, SET NX PX, renewed by its holder
 * with a compare-and-expire script); a process that dies simply stops renewing and another takes
 * over within CLEANUP_LOCK_TTL_MS. Every pass uses SCAN/ZRANGE in batches, never KEYS:
 *   - orphans: IDLE set members whose hash expired (IDLE_TTL) are removed from the set;
 *   - broken pairs: a CONNECTING/IN_CALL user whose partner does not point back (or no match)
 *     is ended alone as a disconnect (the state-consistency signal);
 *   - set/hash disagreements found on the way are repaired by the atomic repair script;
 *   - keys that must expire but have no TTL (event history, idempotency records) get one.
 * Each run's counts and duration go to the log and to metrics.
 */
import { randomUUID } from 'node:crypto';
import { pipelineAcross, scanKeys, type Queued, type RedisClient } from '../infra/redis';
import type { Logger } from '../infra/logger';
import type { Clock } from '../shared/clock';
import { State } from '../state/states';
import type { StateStore } from '../state/store';
import { PeriodicJob, type JobReporter } from '../shared/periodic';
import { repairLobby } from '../state/consistency';

export interface CleanupOptions {
  intervalMs: number;
  /** Told after each run (metrics). */
  onJobRun?: JobReporter;
  lockTtlMs: number;
  batch: number;
  idleTtlMs: number;
  evTtlMs: number;
  opTtlMs: number;
}

export interface CleanupReport {
  orphans: number;
  brokenPairs: number;
  repaired: number;
  ttlsSet: number;
  durationMs: number;
}

export class CleanupJob {
  readonly id = randomUUID();
  private readonly job: PeriodicJob<CleanupReport>;

  constructor(
    private readonly redis: RedisClient,
    private readonly store: StateStore,
    private readonly clock: Clock,
    private readonly opts: CleanupOptions,
    private readonly log: Logger,
    private readonly hooks: { onRun?(r: CleanupReport): void } = {},
  ) {
    // One process of many cleans up: the one holding the lock.
    this.job = new PeriodicJob({ name: 'cleanup', intervalMs: opts.intervalMs, leader: () => this.lead(), log, onRun: opts.onJobRun }, async () => {
      const r = await this.runOnce();
      this.hooks.onRun?.(r);
      if (r.orphans + r.brokenPairs + r.repaired + r.ttlsSet > 0) this.log.info(r, 'cleanup run');
      return r;
    });
  }

  private get lockKey(): string {
    return `${this.store.keys.root}:lock:cleanup`;
  }

  /**
   * Take or keep the leadership; true while this process is the leader. Callers at the same time
   * (the cleanup and the other leader-only jobs) share one attempt: two at once would both find
   * no lock, and the second SET NX would lose to the first, this very process.
   */
  lead(): Promise<boolean> {
    this.leading ??= this.tryLead().finally(() => (this.leading = null));
    return this.leading;
  }

  private leading: Promise<boolean> | null = null;

  private async tryLead(): Promise<boolean> {
    const renewed = await this.store.scripts.call<number>('presence_lock_renew', [this.lockKey], [this.id, this.opts.lockTtlMs]);
    if (renewed === 1) return true;
    return (await this.redis.set(this.lockKey, this.id, 'PX', this.opts.lockTtlMs, 'NX')) === 'OK';
  }

  async resign(): Promise<void> {
    await this.store.scripts.call('presence_lock_release', [this.lockKey], [this.id]);
  }

  start(): void {
    this.job.start();
  }

  async stop(): Promise<void> {
    await this.job.stop();
    await this.resign().catch(() => {});
  }

  /** A run now if this process leads (null if not, or if it failed: logged). */
  async tick(): Promise<CleanupReport | null> {
    if (!(await this.lead().catch(() => false))) return null;
    return (await this.job.runNow()) ?? null;
  }

  async runOnce(): Promise<CleanupReport> {
    const started = this.clock.now();
    const report: CleanupReport = { orphans: 0, brokenPairs: 0, repaired: 0, ttlsSet: 0, durationMs: 0 };
    const pools = await this.store.pools();
    // Maintenance looks at every registered pool, and gives background work back to any with users.
    await this.store.active.refresh(pools);
    for (const pool of pools) {
      report.orphans += await this.orphans(pool);
      report.brokenPairs += await this.brokenPairs(pool);
      report.repaired += await repairLobby(this.redis, this.store, pool, this.opts.batch);
      report.ttlsSet += await this.missingTtls(pool);
    }
    report.durationMs = this.clock.now() - started;
    return report;
  }

  private async orphans(pool: string): Promise<number> {
    const k = this.store.keys;
    const old = await this.redis.zrangebyscore(k.state(pool, State.IDLE), '-inf', String(this.clock.now() - this.opts.idleTtlMs), 'LIMIT', 0, this.opts.batch);
    if (old.length === 0) return 0;
    const pipe = this.redis.pipeline();
    for (const uid of old) pipe.exists(k.user(pool, uid));
    const exists = (await pipe.exec()) ?? [];
    const gone = old.filter((_, i) => exists[i]?.[1] === 0);
    if (gone.length) await this.redis.zrem(k.state(pool, State.IDLE), ...gone);
    return gone.length;
  }

  private async brokenPairs(pool: string): Promise<number> {
    let broken = 0;
    for (const state of [State.CONNECTING, State.IN_CALL]) {
      for (const { userId } of await this.store.usersIn(pool, state, 0, this.opts.batch)) {
        const u = await this.store.getUser(userId, pool);
        if (u.state !== state) {
          await this.store.repair({ uid: userId, pool });
          continue;
        }
        const p = u.matchedWith ? await this.store.getUser(u.matchedWith, pool) : null;
        const intact = p && u.matchId && p.matchId === u.matchId && p.matchedWith === u.userId && (p.state === State.CONNECTING || p.state === State.IN_CALL);
        if (intact) continue;
        if (u.matchId) await this.store.leave({ uid: userId, pool, reason: 'disconnect', matchId: u.matchId, actor: 'cleanup' });
        else await this.store.force({ uid: userId, pool, to: State.IDLE, actor: 'cleanup', reason: `${state} with no match` });
        broken++;
      }
    }
    return broken;
  }

  private async missingTtls(pool: string): Promise<number> {
    const prefix = this.store.keys.poolPrefix(pool).replace(/[*?[\]\\]/g, '\\$&');
    let set = 0;
    for (const [pattern, ttl] of [
      [`${prefix}ev:*`, this.opts.evTtlMs],
      [`${prefix}evb:*`, this.opts.evTtlMs],
      [`${prefix}op:*`, this.opts.opTtlMs],
    ] as const) {
      // The keys of one pool share its slot: each page is one pipeline, on one Redis or a cluster.
      for await (const keys of scanKeys(this.redis, pattern, this.opts.batch)) {
        const ttls = await pipelineAcross(
          this.redis,
          keys.map((key): Queued => [key, (p) => p.pttl(key)]),
        );
        const fix = keys.filter((_, i) => ttls[i]?.[1] === -1);
        if (fix.length) {
          await pipelineAcross(
            this.redis,
            fix.map((key): Queued => [key, (p) => p.pexpire(key, ttl)]),
          );
          set += fix.length;
        }
      }
    }
    return set;
  }
}
