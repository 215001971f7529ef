/**
 * MatchService: the match flow on top of the state scripts. Matching is event-driven (the
 * enqueue and leave scripts try to pair at once); a background tick only expires CONNECTING
 * deadlines and re-tries the oldest waiting users (for example when an interest preference relaxes).
 */
import type { Redis } from 'ioredis';
import type { Database } from '../infra/postgres';
import type { Logger } from '../infra/logger';
import type { Metrics } from '../infra/metrics';
import { DEFAULT_POOL, POOL_NAME } from '../state/keys';
import type { MatchMade, StateStore, UserState } from '../state/store';
import { blocks } from './schema';
import { and, eq } from 'drizzle-orm';

export interface EnqueueInput {
  interests?: string[];
  language?: string;
  region?: string;
  idempotencyKey?: string;
}

/** `global`, or `<language>` / `<language>-<region>` / `any-<region>` when chosen. */
export function poolFor(language?: string, region?: string): string {
  const l = language?.toLowerCase();
  const r = region?.toLowerCase();
  const name = l && r ? `${l}-${r}` : l ? l : r ? `any-${r}` : DEFAULT_POOL;
  return POOL_NAME.test(name) ? name : DEFAULT_POOL;
}

export class MatchService {
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  /**
   * Set by the rooms domain: ends the video room of a match that just ended here (skip, end,
   * CONNECTING deadline). A fast path only: it runs in the background and the room janitor ends
   * the room of any ended match anyway, so a failure here costs seconds, not a leaked room.
   */
  roomTeardown: ((pool: string, matchId: string, reason: string) => Promise<void>) | null = null;

  /** Runs each Postgres call (the composition root puts it under the Postgres policy). */
  postgres: <T>(fn: () => Promise<T>) => Promise<T> = (fn) => fn();

  constructor(
    private readonly store: StateStore,
    private readonly redis: Redis,
    private readonly database: Database,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly tickMs: number,
  ) {}

  /** `current`: the caller's state when the router already read it (saves a round trip). */
  async enqueue(uid: string, name: string, input: EnqueueInput, current?: UserState) {
    const pool = poolFor(input.language, input.region);
    current ??= await this.store.getUser(uid);
    const moving = current.pool !== pool && current.state === 'IDLE';
    if (moving) await this.store.movePool(uid, pool);
    const r = await this.store.enqueue({
      uid,
      pool: current.state === 'IDLE' ? pool : current.pool,
      name,
      interests: input.interests,
      op: input.idempotencyKey,
      // A new pool means a new hash: the user's versions carry on from the pool they leave.
      minVersion: moving ? current.version : undefined,
    });
    if (r.match) this.made([r.match]);
    return r;
  }

  /** `pool`: the caller's pool when the router already read it (saves a round trip). */
  async cancel(uid: string, idempotencyKey?: string, pool?: string) {
    return this.store.cancel({ uid, pool: pool ?? (await this.store.poolOf(uid)), op: idempotencyKey });
  }

  async leave(uid: string, reason: 'skip' | 'end' | 'disconnect' | 'timeout', matchId?: string, idempotencyKey?: string, actor?: string) {
    const pool = await this.store.poolOf(uid);
    const r = await this.store.leave({ uid, pool, reason, matchId, op: idempotencyKey, actor });
    this.made(r.matches);
    // Only a leave that really ended the user's own match (the script says which) tears down its
    // room, so a stray matchId cannot end others' calls.
    if (r.ended) this.teardown(pool, r.ended, reason);
    return r;
  }

  async joined(uid: string, matchId: string, pool?: string) {
    return this.store.joined({ uid, pool: pool ?? (await this.store.poolOf(uid)), matchId });
  }

  /** Blocks are stored in Postgres (the record) and mirrored into every pool's Redis set. */
  async block(uid: string, other: string) {
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
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Expire CONNECTING deadlines and retry the oldest waiting users, in every pool. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const pool of await this.store.pools()) {
        const e = await this.store.expire(pool);
        for (const mid of e.expired) this.teardown(pool, mid, 'timeout');
        const s = await this.store.sweep(pool);
        this.made([...e.matches, ...s.matches]);
      }
    } catch (err) {
      this.log.warn({ err }, 'match tick failed');
    } finally {
      this.ticking = false;
    }
  }
}
