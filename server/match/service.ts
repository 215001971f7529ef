/**
 * MatchService: the match flow on top of the state scripts. Matching is event-driven (the
 * enqueue and leave scripts try to pair at once); a background tick only expires CONNECTING
 * deadlines and re-tries the oldest waiting users (for example when an interest preference relaxes).
 */
import type { Database } from '../infra/postgres';
import type { Logger } from '../infra/logger';
import type { Metrics } from '../infra/metrics';
import { PeriodicJob, type JobReporter } from '../shared/periodic';
import { DEFAULT_POOL, POOL_NAME } from '../state/keys';
import { InvalidTransitionError, LimitExceededError, NotInMatchError, WrongStateError } from '../state/errors';
import { State, type Precondition } from '../state/states';
import { PoolGuessMissedError, type ChatPreferences, type MatchMade, type StateStore } from '../state/store';
import { audiencePool, type Audience } from '../safety/age';
import { blocks } from './schema';
import { and, eq } from 'drizzle-orm';

export interface EnqueueInput {
  interests?: string[];
  language?: string;
  region?: string;
  idempotencyKey?: string;
  chat?: ChatPreferences;
  /** Hide my address from partners (relay only; absent: hidden). */
  privacy?: boolean;
}

/** Which languages and regions a queue may be chosen by (config): a bounded set of pools. */
export interface PoolRules {
  languages: readonly string[];
  regions: readonly string[];
}

/**
 * `global`, or `<language>` / `<language>-<region>` / `any-<region>` when chosen. A language or
 * region outside the rules is refused (UNSUPPORTED_POOL): pools are keys and background work, so
 * no client may invent new ones.
 */
export function poolFor(rules: PoolRules, language?: string, region?: string): string {
  const l = language?.toLowerCase();
  const r = region?.toLowerCase();
  if ((l !== undefined && !rules.languages.includes(l)) || (r !== undefined && !rules.regions.includes(r))) {
    throw new LimitExceededError('UNSUPPORTED_POOL', { language: l ?? null, region: r ?? null });
  }
  const name = l && r ? `${l}-${r}` : l ? l : r ? `any-${r}` : DEFAULT_POOL;
  return POOL_NAME.test(name) ? name : DEFAULT_POOL;
}

export interface MatchOptions {
  tickMs: number;
  /** Told after each run of the match tick (metrics). */
  onJobRun?: JobReporter;
  pools: PoolRules;
  /** Blocks one user may hold. */
  maxBlocks: number;
}

/** A script's refusal (the user is in another state) as the user sees it: what they can't do now. */
function wrongState(pre: Precondition) {
  return (e: unknown): never => {
    const state = e instanceof InvalidTransitionError ? e.from : e instanceof NotInMatchError ? e.state : undefined;
    throw state !== undefined && !pre.states.includes(state) ? new WrongStateError(state, pre.states, pre.action) : e;
  };
}

/** What the composition root gives the match service; each optional (tests run without). */
export interface MatchWiring {
  /**
   * Ends the video room of a match that just ended here (skip, end, CONNECTING deadline). A fast
   * path only: it runs in the background and the room janitor ends the room of any ended match
   * anyway, so a failure here costs seconds, not a leaked room. None without LiveKit.
   */
  roomTeardown?: (pool: string, matchId: string, reason: string) => Promise<void>;
  /** Runs each Postgres call (the composition root: the Postgres policy). */
  postgres?: <T>(fn: () => Promise<T>) => Promise<T>;
}

export class MatchService {
  private readonly job: PeriodicJob<void>;
  private readonly roomTeardown: MatchWiring['roomTeardown'];
  private readonly postgres: NonNullable<MatchWiring['postgres']>;

  constructor(
    private readonly store: StateStore,
    private readonly database: Database,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly opts: MatchOptions,
    wiring: MatchWiring = {},
  ) {
    this.job = new PeriodicJob({ name: 'match tick', intervalMs: opts.tickMs, log, onRun: opts.onJobRun }, () => this.pass());
    this.roomTeardown = wiring.roomTeardown;
    this.postgres = wiring.postgres ?? ((fn) => fn());
    // Every match any script made (enqueue, leave, sweep, deadline, a user back, a rollback) is counted.
    store.onMatches((_pool, matches) => this.made(matches));
  }

  /**
   * IDLE -> WAITING in the chosen pool, and a match attempt. Usually one script call: when this
   * process already knows the user is in that pool (StateStore.poolHint), the script checks the
   * state itself. Otherwise (or when the guess was wrong) the user is read first, and moved to
   * the chosen pool if they rest in another. `pre`: the states the procedure declared (router,
   * `inStates`), checked by the script. `audience` (the person's age answer) and `lowTrust`
   * choose the pool's separation: minors and people on low trust have pools of their own (safety/age.ts).
   */
  async enqueue(uid: string, name: string, input: EnqueueInput, pre: Precondition, audience: Audience, lowTrust = false) {
    const pool = audiencePool(audience, poolFor(this.opts.pools, input.language, input.region), lowTrust);
    const call = { uid, name, interests: input.interests, op: input.idempotencyKey, allowed: pre.states, chat: input.chat, privacy: input.privacy };
    if (this.store.poolHint(uid) === pool) {
      try {
        return this.enqueued(await this.store.enqueue({ ...call, pool, guess: true }).catch(wrongState(pre)), pool);
      } catch (e) {
        if (!(e instanceof PoolGuessMissedError)) throw e;
      }
    }
    // Not at rest: the script refuses (or, for a retry of a call that ran, answers as the first time).
    const current = await this.store.getUser(uid);
    const moving = current.pool !== pool && current.state === State.IDLE;
    if (moving) await this.store.movePool(uid, pool, current.pool);
    const r = await this.store
      .enqueue({
        ...call,
        pool: current.state === State.IDLE ? pool : current.pool,
        // A new pool means a new hash: the user's versions carry on from the pool they leave.
        minVersion: moving ? current.version : undefined,
      })
      .catch(wrongState(pre));
    return this.enqueued(r, current.state === State.IDLE ? pool : current.pool);
  }

  /** An enqueue went through: its pool gets background work (not awaited). */
  private enqueued<T>(r: T, pool: string): T {
    this.store.active.touch(pool).catch(() => undefined);
    return r;
  }

  async cancel(uid: string, idempotencyKey: string | undefined, pre: Precondition) {
    return this.store.inUserPool(uid, (pool, guess) => this.store.cancel({ uid, pool, guess, op: idempotencyKey, allowed: pre.states }).catch(wrongState(pre)));
  }

  async leave(uid: string, reason: 'skip' | 'end' | 'disconnect' | 'timeout', matchId?: string, idempotencyKey?: string, actor?: string) {
    const { pool, r } = await this.store.inUserPool(uid, async (pool, guess) => ({
      pool,
      r: await this.store.leave({ uid, pool, guess, reason, matchId, op: idempotencyKey, actor }),
    }));
    // Only a leave that really ended the user's own match (the script says which) tears down its
    // room, so a stray matchId cannot end others' calls.
    if (r.ended) this.teardown(pool, r.ended, reason);
    return r;
  }

  async joined(uid: string, matchId: string, pre: Precondition) {
    return this.store.inUserPool(uid, (pool, guess) => this.store.joined({ uid, pool, guess, matchId, allowed: pre.states }).catch(wrongState(pre)));
  }

  /** Blocks are stored in Postgres (the record) and mirrored into every pool's Redis set. */
  async block(uid: string, other: string) {
    const held = await this.store.blocking(uid, other);
    if (!held.already && held.count >= this.opts.maxBlocks) throw new LimitExceededError('TOO_MANY_BLOCKS', { max: this.opts.maxBlocks });
    await this.postgres(() => this.database.db.insert(blocks).values({ blockerId: uid, blockedId: other }).onConflictDoNothing());
    await this.store.blockMirror(uid, other, true);
  }

  async unblock(uid: string, other: string) {
    await this.postgres(() => this.database.db.delete(blocks).where(and(eq(blocks.blockerId, uid), eq(blocks.blockedId, other))));
    await this.store.blockMirror(uid, other, false);
  }

  /** Count matches this process made, and how long their users waited. */
  private made(matches: MatchMade[]): void {
    if (!matches.length) return;
    this.metrics.matches.inc(matches.length);
    for (const m of matches) {
      this.metrics.matchWait.observe(m.waitedA / 1000);
      this.metrics.matchWait.observe(m.waitedB / 1000);
    }
  }

  private teardown(pool: string, matchId: string, reason: string): void {
    this.roomTeardown?.(pool, matchId, reason).catch((err: unknown) => this.log.warn({ err, pool, matchId }, 'room teardown failed; the janitor will retry'));
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** Expire CONNECTING deadlines and retry the oldest waiting users, in every pool. */
  async tick(): Promise<void> {
    await this.job.runNow();
  }

  private async pass(): Promise<void> {
    const pools = await this.store.active.list();
    for (const pool of pools) {
      const e = await this.store.expire(pool);
      for (const mid of e.expired) this.teardown(pool, mid, 'timeout');
      await this.store.sweep(pool);
    }
    await this.store.active.refresh(pools);
  }
}
