/**
 * ScriptRunner: how the state scripts are called. Every call carries the pool, the match mode and
 * an op id, runs under the composition root's guard, and turns a Redis failure into the typed
 * StoreUnavailableError; the matches a script made are handed to the listeners after it committed.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { publishCommand, type RedisClient } from '../infra/redis';
import type { Config } from '../config';
import type { Clock } from '../shared/clock';
import type { WriteBatcher } from '../shared/write-batch';
import { ActivePools } from './active-pools';
import { StoreUnavailableError, isDomainError } from './errors';
import { Keys } from './keys';
import { StateQueries, type QueryWiring } from './queries';
import { LibraryReloadedError, Scripts, type ScriptMode, type ScriptName } from './scripts';

export interface StateLimits {
  idleTtlMs: number;
  opTtlMs: number;
  evMax: number;
  evMaxBytes: number;
  evTtlMs: number;
  sigMaxDescriptions: number;
  sigMaxCandidates: number;
  recentMax: number;
  recentTtlMs: number;
  relaxMs: number;
  scanLimit: number;
  connectMs: number;
  /** Wait estimates need waitMinMatches matches within waitWindowMs (else none). */
  waitWindowMs: number;
  waitMinMatches: number;
}

/** The state machine's limits, from the validated config. */
export function stateLimits(cfg: Config): StateLimits {
  return {
    idleTtlMs: cfg.IDLE_TTL_MS,
    opTtlMs: cfg.IDEMPOTENCY_TTL_MS,
    evMax: cfg.EVENT_HISTORY_MAX,
    evMaxBytes: cfg.EVENT_HISTORY_MAX_BYTES,
    evTtlMs: cfg.EVENT_HISTORY_TTL_MS,
    sigMaxDescriptions: cfg.SIGNAL_MAX_DESCRIPTIONS,
    sigMaxCandidates: cfg.SIGNAL_MAX_CANDIDATES,
    recentMax: cfg.RECENT_PARTNERS_MAX,
    recentTtlMs: cfg.RECENT_PARTNERS_TTL_MS,
    relaxMs: cfg.INTEREST_RELAX_MS,
    scanLimit: cfg.MATCH_SCAN_LIMIT,
    connectMs: cfg.CONNECTING_TIMEOUT_MS,
    waitWindowMs: cfg.WAIT_ESTIMATE_WINDOW_MS,
    waitMinMatches: cfg.WAIT_ESTIMATE_MIN_MATCHES,
  };
}

// A match record outlives its call by a day, for late webhooks and support lookups.
const MATCH_TTL_MS = 24 * 3600_000;

export interface MatchMade {
  matchId: string;
  a: string;
  b: string;
  /** How long each had waited in the queue, ms. */
  waitedA: number;
  waitedB: number;
}

interface ScriptReply {
  ok: boolean;
  error?: string;
  state?: string;
  [k: string]: unknown;
}

/** cjson encodes an empty Lua table as `{}`: read list fields through this. */
export function list<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

export class ScriptRunner extends StateQueries {
  protected readonly redis: RedisClient;
  /** Every Lua script of the server (the other domains' standalone ones through `scripts.call`). */
  readonly scripts: Scripts;
  /** The limits as the scripts get them (ARGV[4]), encoded once. */
  private readonly luaLimits: string;
  /** The pools that get background work (those with users lately). */
  readonly active: ActivePools;

  /** How new matches are made (see StoreWiring.matchMode). */
  readonly matchMode: NonNullable<StoreWiring['matchMode']>;
  /** The pool this process last saw a user in, or null (see StoreWiring.poolHint). */
  readonly poolHint: NonNullable<StoreWiring['poolHint']>;
  private guard: Guard;
  private checkPool: (pool: string) => Promise<void>;

  constructor(redis: RedisClient, root: string, limits: StateLimits, clock: Clock, wiring: StoreWiring = {}, scriptMode?: ScriptMode) {
    super(redis, new Keys(root), clock, wiring);
    this.redis = redis;
    this.matchMode = wiring.matchMode ?? (() => ({ mode: 'direct', defer: false }));
    this.poolHint = wiring.poolHint ?? (() => null);
    this.guard = wiring.guard ?? ((_pool, fn) => fn());
    this.checkPool = wiring.checkPool ?? ((pool) => startPool(redis, this.keys, clock, pool));
    this.scripts = new Scripts(redis, scriptMode, wiring.writes);
    this.active = new ActivePools(redis, this.keys, clock);
    // Sharded pub/sub on a cluster: a notification stays on its pool's shard instead of every node.
    // On a cluster every pool's data is checked on its own (see lib.lua begin_call).
    this.luaLimits = JSON.stringify({ ...limits, matchTtl: MATCH_TTL_MS, publish: publishCommand(redis), checkPools: redis instanceof Cluster });
  }

  private readonly matchListeners: MatchListener[] = [];
  private readonly stepListeners: Array<(pool: string, steps: FunnelSteps) => void> = [];

  /** `fn` is told the connection-funnel steps every script call made (lib.lua `step`), after it committed. */
  onFunnelSteps(fn: (pool: string, steps: FunnelSteps) => void): void {
    this.stepListeners.push(fn);
  }

  /** `fn` is called with every match any script made (after the script committed). */
  onMatches(fn: MatchListener): void {
    this.matchListeners.push(fn);
  }

  /**
   * Runs `call` in the user's pool: in the hinted pool first, which saves asking Redis where the
   * user is, else (or when the guess was wrong) in the pool Redis names.
   */
  async inUserPool<T>(uid: string, call: (pool: string, guess: boolean) => Promise<T>): Promise<T> {
    const hint = this.poolHint(uid);
    if (hint !== null) {
      try {
        return await call(hint, true);
      } catch (e) {
        if (!(e instanceof PoolGuessMissedError)) throw e;
      }
    }
    return call(await this.poolOf(uid), false);
  }

  /**
   * This store with another guard (the rebuild's own calls run with none: see checkpoint/epoch.ts).
   * Such a view is the recovery itself: a pool refusing its calls is not checked again from it
   * (that would wait on the check it is part of), the call fails instead.
   */
  withGuard(guard: Guard): this {
    const view = Object.create(this) as this;
    view.guard = guard;
    view.checkPool = (pool) => Promise.reject(new PoolUncheckedError(pool));
    return view;
  }

  protected async run(name: ScriptName, pool: string, key: string, options: Record<string, unknown>): Promise<ScriptReply> {
    const mode = this.matchMode();
    const payload = JSON.stringify({ pool, mode: mode.mode, defer: mode.defer, stop: mode.stop, ...options, ...this.opTtlFor(options.op) });
    // The clock is read per attempt, so a retried script sees the time it actually runs at.
    const attempt = () => this.guard(pool, () => this.scripts.run(name, key, this.keys.poolPrefix(pool), this.clock.now(), payload, this.luaLimits));
    // A call that found the scripts missing did nothing; it runs again through the guard, which
    // holds it until Redis's data has been checked (a Redis without our scripts just restarted).
    const call = async () =>
      JSON.parse(
        await attempt().catch((e: unknown) => {
          if (e instanceof LibraryReloadedError) return attempt();
          throw e;
        }),
      ) as ScriptReply;
    let reply: ScriptReply;
    try {
      reply = await call();
      // Refused unchecked (a cluster pool without its epoch): nothing ran; the pool is checked
      // (rebuilt, if its master lost its data) and the call made again.
      if (reply.ok === false && reply.error === UNCHECKED) {
        await this.checkPool(pool);
        reply = await call();
        if (reply.ok === false && reply.error === UNCHECKED) throw new PoolUncheckedError(pool);
      }
    } catch (e) {
      if (isDomainError(e)) throw e;
      throw new StoreUnavailableError(e);
    }
    if (reply.ok === false && reply.error === 'MISS') throw new PoolGuessMissedError();
    if (this.matchListeners.length) {
      const made = [...(reply.match ? [reply.match as MatchMade] : []), ...list<MatchMade>(reply.matches)];
      if (made.length) for (const fn of this.matchListeners) fn(pool, made, mode.defer);
    }
    if (reply.steps) for (const fn of this.stepListeners) fn(pool, reply.steps);
    return reply;
  }

  protected op(uid: string, key: string | undefined): string {
    return key ? `${uid}:${key}` : `${uid}:${SERVER_OP}${randomUUID()}`;
  }

  /** An op id we made up only has to outlive an ioredis resend; a client's key lives IDEMPOTENCY_TTL_MS. */
  private opTtlFor(op: unknown): { opTtl?: number } {
    return typeof op === 'string' && op.includes(`:${SERVER_OP}`) ? { opTtl: SERVER_OP_TTL_MS } : {};
  }
}

/**
 * How new matches are made: `direct`, `livekit` (with `defer`: the `matched` events wait for the
 * room; see announce()) or `text` (text only: no call at all). With `stop` none are made: each
 * waiting person is told `notice` once per stop (`since` names the stop). The rooms domain decides
 * the mode; the kill switches (server/ops/switches.ts) override it.
 */
export interface MatchMode {
  mode: 'direct' | 'livekit' | 'text';
  defer: boolean;
  stop?: { since: number; notice: { code: string; message: string } };
}

/**
 * The connection-funnel steps one script call made (lib.lua `step`): matches made, first signals,
 * matches in call, matches ended before it (missing, ghost), calls ended (calls, their total callMs),
 * and once per match its first failed-media report (iceFailures) and media path (relayed, direct).
 */
export type FunnelSteps = Partial<
  Record<'matched' | 'signalling' | 'connected' | 'missing' | 'ghost' | 'calls' | 'callMs' | 'iceFailures' | 'relayed' | 'direct', number>
>;

/** Runs a script call of a pool (the composition root: the pool's bulkhead and the Redis policy). */
export type Guard = <T>(pool: string, fn: () => Promise<T>) => Promise<T>;

/** What the composition root gives the store; each optional (tests run without). */
export interface StoreWiring extends QueryWiring {
  /** Runs each script call. Default: as it is. */
  guard?: Guard;
  /**
   * The pool this process last saw a user in, or null (the event hub knows the pool of every user
   * subscribed here). Only a guess: a script given one (`guess`) checks it (misguessed in
   * lib.lua), and a wrong one costs one more call.
   */
  poolHint?: (uid: string) => string | null;
  /**
   * How new matches are made: `direct` (matched events at once) or `livekit` with `defer` (the
   * `matched` events wait for the room; see announce()). The rooms domain decides.
   */
  matchMode?: () => MatchMode;
  /** Coalesces the script calls of one turn into one write (shared with the WebSocket sockets). */
  writes?: WriteBatcher;
  /**
   * On a cluster: makes sure a pool whose scripts refused a call (its epoch missing) holds its
   * data again (checkpoint/pool-epochs.ts rebuilds it from checkpoints). Default: start the pool's
   * epoch (a store without the recovery wiring, as in tests).
   */
  checkPool?: (pool: string) => Promise<void>;
}

const UNCHECKED = 'UNCHECKED';

/** A pool's scripts still refused a call after the pool was checked (its data was lost again meanwhile). */
export class PoolUncheckedError extends Error {
  override readonly name = 'PoolUncheckedError';
  constructor(pool: string) {
    super(`pool ${pool} was checked, but its scripts still find no epoch`);
  }
}

/**
 * A new epoch for a pool that has none (the format event ids carry: microseconds, as lib.lua's
 * event_id makes it). Only if none exists: a pool started twice keeps the first.
 */
export function newEpoch(clock: Clock): string {
  return `${clock.now()}${String(randomInt(1000)).padStart(3, '0')}`;
}

async function startPool(redis: RedisClient, keys: Keys, clock: Clock, pool: string): Promise<void> {
  await redis.set(keys.epoch(pool), newEpoch(clock), 'NX');
}

/** Hears of the matches a script made: its pool, the matches, and whether their announcement waits (deferred). */
export type MatchListener = (pool: string, matches: MatchMade[], deferred: boolean) => void;

/** A script given a guessed pool (StateStore.poolHint) found the user's hash elsewhere: nothing ran. */
export class PoolGuessMissedError extends Error {
  constructor() {
    super("the user's pool was not the one guessed");
    this.name = 'PoolGuessMissedError';
  }
}

// Server-made op ids are marked, and kept 60 s: far longer than any reconnect-and-resend takes.
const SERVER_OP = 'srv-';
const SERVER_OP_TTL_MS = 60_000;
