/**
 * StateQueries: reads of the state machine for the rest of the system and for admins (a user's
 * state, counts per state, users in a state in queue order, users stuck in a state), plus the
 * small flags kept beside it. Range queries on sorted sets, never KEYS. Every read runs through
 * `readGuard`, which the composition root puts under the Redis breaker (one attempt, no retry: a
 * read in front of a user's call fails fast, and its failure counts toward the same breaker as
 * the scripts'). A read that fails, or that an open breaker refuses, becomes the same typed
 * StoreUnavailableError as a failed script ("please try again in a few seconds").
 */
import { mgetAcross, pipelineAcross, type Queued, type RedisClient } from '../infra/redis';
import type { Clock } from '../shared/clock';
import { StoreUnavailableError, isDomainError } from './errors';
import { DEFAULT_POOL, type Keys } from './keys';
import { STATES, State, isState } from './states';

export interface UserState {
  userId: string;
  pool: string;
  state: State;
  previousState: State | null;
  version: number;
  lastStateChange: number;
  matchId: string | null;
  matchedWith: string | null;
  currentRoom: string | null;
  name: string;
  counters: { totalMatches: number; totalSkips: number; totalEnds: number; totalDisconnects: number };
}

/** A user's hash as the user-state reads see it. */
export type UserHash = Record<string, string>;

/** What the composition root gives the reads (each optional: tests run without). */
export interface QueryWiring {
  /** Runs each read: the composition root puts it under the Redis breaker, without retry. */
  readGuard?: <T>(fn: () => Promise<T>) => Promise<T>;
  /**
   * Asked about a user who has no hash in the pool read (before a script would create one at
   * version 0); may create it, in that pool or another, and return it: after a Redis data loss a
   * returning user continues their versions (and their pool) from the audit trail
   * (server/checkpoint/version-floors.ts).
   */
  onMissingUser?: (uid: string, pool: string) => Promise<{ pool: string; hash: UserHash } | null>;
}

export class StateQueries {
  private readonly readGuard: NonNullable<QueryWiring['readGuard']>;
  private readonly onMissingUser: QueryWiring['onMissingUser'];

  constructor(
    protected readonly kv: RedisClient,
    readonly keys: Keys,
    protected readonly clock: Clock,
    wiring: QueryWiring = {},
  ) {
    this.readGuard = wiring.readGuard ?? ((fn) => fn());
    this.onMissingUser = wiring.onMissingUser;
  }

  /** The pool a user is in now (where their hash and event history live). */
  async poolOf(uid: string): Promise<string> {
    return (await this.read(() => this.kv.get(this.keys.userPool(uid)))) ?? DEFAULT_POOL;
  }

  /** The injected clock's time. */
  now(): number {
    return this.clock.now();
  }

  async isRevoked(uid: string): Promise<boolean> {
    return (await this.read(() => this.kv.exists(`${this.keys.root}:revoked:${uid}`))) === 1;
  }

  async pausedPools(): Promise<Array<{ pool: string; reason: string }>> {
    const out: Array<{ pool: string; reason: string }> = [];
    for (const pool of await this.pools()) {
      const reason = await this.read(() => this.kv.get(`${this.keys.poolPrefix(pool)}paused`));
      if (reason) out.push({ pool, reason });
    }
    return out;
  }

  /** The pools of many users (one MGET). */
  async poolsOf(uids: string[]): Promise<string[]> {
    if (uids.length === 0) return [];
    const r = await this.read(() =>
      mgetAcross(
        this.kv,
        uids.map((u) => this.keys.userPool(u)),
      ),
    );
    return r.map((p) => p ?? DEFAULT_POOL);
  }

  async getUser(uid: string, pool?: string): Promise<UserState> {
    const p = pool ?? (await this.poolOf(uid));
    const h = await this.read(() => this.kv.hgetall(this.keys.user(p, uid)));
    const seeded = !h.state && this.onMissingUser ? await this.onMissingUser(uid, p) : null;
    return seeded ? toUserState(uid, seeded.pool, seeded.hash) : toUserState(uid, p, h);
  }

  async counts(pool: string): Promise<Record<State, number>> {
    const pipe = this.kv.pipeline();
    for (const s of STATES) pipe.zcard(this.keys.state(pool, s));
    const res = (await this.read(() => pipe.exec())) ?? [];
    const failed = res.find(([err]) => err);
    if (failed) throw new StoreUnavailableError(failed[0]);
    return Object.fromEntries(STATES.map((s, i) => [s, Number(res[i]?.[1] ?? 0)])) as Record<State, number>;
  }

  /** Users in a state, oldest first (for WAITING: in queue order). */
  async usersIn(pool: string, state: State, offset = 0, limit = 100): Promise<Array<{ userId: string; since: number }>> {
    const flat = await this.read(() => this.kv.zrange(this.keys.state(pool, state), String(offset), String(offset + limit - 1), 'WITHSCORES'));
    return pairs(flat);
  }

  /** Users who entered `state` more than `olderThanMs` ago. */
  async stuck(pool: string, state: State, olderThanMs: number, limit = 100) {
    const flat = await this.read(() =>
      this.kv.zrangebyscore(this.keys.state(pool, state), '-inf', String(this.clock.now() - olderThanMs), 'WITHSCORES', 'LIMIT', 0, limit),
    );
    return pairs(flat);
  }

  /** How many people `uid` blocks, and whether `other` is one of them. */
  async blocking(uid: string, other: string): Promise<{ count: number; already: boolean }> {
    const [count, already] = await this.read(() => Promise.all([this.kv.scard(this.keys.blocksOf(uid)), this.kv.sismember(this.keys.blocksOf(uid), other)]));
    return { count, already: already === 1 };
  }

  /**
   * Across `pools`: the people seen connected since `since` (each pool's `seen`, which every
   * process refreshes for its sockets and streams, the heartbeat and the enqueue too), and the
   * present waiting people (each pool's lobby). One command per pool and set, pipelined (one
   * pipeline per pool on a cluster, a pool being one hash tag).
   */
  async online(pools: string[], since: number): Promise<{ online: number; waiting: number }> {
    const cmds = pools.flatMap((pool): Queued[] => {
      const seen = `${this.keys.poolPrefix(pool)}seen`;
      const lobby = this.keys.lobby(pool);
      return [
        [seen, (p) => p.zcount(seen, since, '+inf')],
        [lobby, (p) => p.zcard(lobby)],
      ];
    });
    const res = await this.read(() => pipelineAcross(this.kv, cmds));
    const failed = res.find(([err]) => err);
    if (failed) throw new StoreUnavailableError(failed[0]);
    let online = 0;
    let waiting = 0;
    res.forEach(([, n], i) => {
      if (i % 2 === 0) online += Number(n);
      else waiting += Number(n);
    });
    return { online, waiting };
  }

  /**
   * For each of `pools`: the people in each state, and the queue depth (the present waiting
   * people, the lobby matching scans). One pipeline, one ZCARD per set.
   */
  async poolCounts(pools: string[]): Promise<Array<{ pool: string; byState: Record<State, number>; queueDepth: number }>> {
    const cmds = pools.flatMap((pool): Queued[] => {
      const sets = [...STATES.map((s) => this.keys.state(pool, s)), this.keys.lobby(pool)];
      return sets.map((key): Queued => [key, (p) => p.zcard(key)]);
    });
    const res = await this.read(() => pipelineAcross(this.kv, cmds));
    const failed = res.find(([err]) => err);
    if (failed) throw new StoreUnavailableError(failed[0]);
    const per = STATES.length + 1;
    return pools.map((pool, i) => {
      const n = (j: number) => Number(res[i * per + j]?.[1] ?? 0);
      return { pool, byState: Object.fromEntries(STATES.map((s, j) => [s, n(j)])) as Record<State, number>, queueDepth: n(STATES.length) };
    });
  }

  async pools(): Promise<string[]> {
    const p = await this.read(() => this.kv.smembers(this.keys.pools()));
    return p.includes(DEFAULT_POOL) ? p : [DEFAULT_POOL, ...p];
  }

  /** Reads that fail because Redis is away (or its breaker is open) become the same typed error as failed scripts. */
  protected async read<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await this.readGuard(fn);
    } catch (e) {
      if (isDomainError(e)) throw e;
      throw new StoreUnavailableError(e);
    }
  }
}

function pairs(flat: string[]): Array<{ userId: string; since: number }> {
  const out: Array<{ userId: string; since: number }> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ userId: flat[i]!, since: Number(flat[i + 1]) });
  return out;
}

export function asState(v: unknown): State {
  return isState(v) ? v : State.IDLE;
}

export function toUserState(uid: string, pool: string, h: Record<string, string>): UserState {
  const n = (k: string) => Number(h[k] ?? 0);
  return {
    userId: uid,
    pool,
    state: asState(h.state),
    previousState: isState(h.previousState) ? h.previousState : null,
    version: n('version'),
    lastStateChange: n('lastStateChange'),
    matchId: h.matchId || null,
    matchedWith: h.matchedWith || null,
    currentRoom: h.currentRoom || null,
    name: h.name ?? '',
    counters: { totalMatches: n('totalMatches'), totalSkips: n('totalSkips'), totalEnds: n('totalEnds'), totalDisconnects: n('totalDisconnects') },
  };
}
