/**
 * ActivePools: which pools get the per-pool script calls of the match tick and the presence
 * sweep. A pool that has been used stays registered (`pools`), but costs nothing there while
 * nobody is in it: only pools touched within WINDOW_MS are worked on. (The audit drain reads every
 * registered pool's outbox in one command, and the room janitor and reconciler look at every
 * registered pool, since a room deletion retried for minutes outlives the pool's users.)
 *
 * - An enqueue that went through touches its pool (not awaited).
 * - The match tick refreshes every active pool that still has users in a state other than IDLE,
 *   or audit records not yet drained; one that has neither ages out after WINDOW_MS.
 * - A rebuild after Redis lost its data refreshes every registered pool, and the cleanup job
 *   (leader, maintenance) does the same each run, so a pool filled some other way is never left
 *   unworked for longer than a cleanup interval.
 * Keys: `<root>:pools:active`, a sorted set of pool -> last time it had users.
 */
import { pipelineAcross, type Queued, type RedisClient } from '../infra/redis';
import type { Clock } from '../shared/clock';
import { DEFAULT_POOL, type Keys } from './keys';
import { State } from './states';

// How long an emptied pool keeps its background work: long enough for its last deadlines,
// graces and audit records to be dealt with; the tick refreshes a pool with users every interval.
const WINDOW_MS = 60_000;
const BUSY_STATES = [State.WAITING, State.CONNECTING, State.IN_CALL, State.DISCONNECTING];

export class ActivePools {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly clock: Clock,
  ) {}

  private key(): string {
    return `${this.keys.root}:pools:active`;
  }

  /** The pool is in use now. Not awaited by callers: a lost touch is healed by the cleanup job. */
  touch(pool: string): Promise<unknown> {
    return this.redis.zadd(this.key(), 'GT', this.clock.now(), pool);
  }

  /** Pools to work on: the default pool, and every pool touched within the window. */
  async list(): Promise<string[]> {
    const p = await this.redis.zrangebyscore(this.key(), this.clock.now() - WINDOW_MS, '+inf');
    return p.includes(DEFAULT_POOL) ? p : [DEFAULT_POOL, ...p];
  }

  /** Touches each of `pools` that has users in a busy state or audit records in its outbox; returns those. */
  async refresh(pools: string[]): Promise<string[]> {
    if (pools.length === 0) return [];
    const res = await pipelineAcross(
      this.redis,
      pools.flatMap((pool): Queued[] => [
        ...BUSY_STATES.map((s): Queued => [this.keys.state(pool, s), (p) => p.zcard(this.keys.state(pool, s))]),
        [this.keys.outbox(pool), (p) => p.xlen(this.keys.outbox(pool))],
      ]),
    );
    const per = BUSY_STATES.length + 1;
    const busy = pools.filter((_, i) => res.slice(i * per, (i + 1) * per).some(([err, n]) => err !== null || Number(n) > 0));
    if (busy.length) {
      const now = this.clock.now();
      await this.redis.zadd(this.key(), 'GT', ...busy.flatMap((p) => [now, p]));
    }
    // Pools idle for much longer than the window are forgotten (an enqueue adds them again).
    await this.redis.zremrangebyscore(this.key(), '-inf', this.clock.now() - 10 * WINDOW_MS);
    return busy;
  }
}
