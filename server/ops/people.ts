/**
 * Finding people and acting on them from the console: lookup by id or name (the pools' name
 * indexes, written at enqueue), a person's detail (live view, audit trail, moderation), ending a
 * match and disconnecting a person. Actions work from any process: a match is ended by one script
 * in its pool (close-2.lua), and a disconnect uses the mechanism a ban uses (presence.endSession:
 * the session refused briefly, and every process closes the person's sockets).
 */
import { count, desc, eq, or } from 'drizzle-orm';
import { stateTransitions } from '../audit/schema';
import { matches } from '../match/schema';
import { USER_MESSAGES } from '../resilience/messages';
import type { Services } from '../services';
import { moderationActions, reports } from '../safety/schema';
import { pipelineAcross, type Queued } from '../infra/redis';
import { NotInMatchError } from '../state/errors';

type Parts = Pick<Services, 'store' | 'redis' | 'database' | 'sanctions'>;

// Bounds on what one lookup returns and reads.
const LOOKUP_MAX = 50;

export interface LookupRow {
  userId: string;
  name: string;
  pool: string;
  state: string;
  matchId: string | null;
  since: number;
}

export class People {
  constructor(
    private readonly svc: Parts,
    /** Ends a person's session everywhere, audited as done by `actor` (the composition root: presence.endSession with the sockets' closer). */
    private readonly endSession: (uid: string, actor: string) => Promise<void>,
  ) {}

  /** By exact id, or by display name (case-insensitive, exact) in every pool. */
  async lookup(query: string): Promise<LookupRow[]> {
    const { store } = this.svc;
    const pools = await store.pools();
    const cmds = pools.map((pool): Queued => {
      const k = store.keys.names(pool, query);
      return [k, (p) => p.zrevrange(k, 0, LOOKUP_MAX - 1)];
    });
    const res = await pipelineAcross(this.svc.redis, cmds);
    // The id itself first, then the names' people; each person once (by the first pool naming them).
    const candidates = new Map<string, string | null>([[query, null]]);
    res.forEach(([, v], i) => {
      for (const uid of (v as string[] | null) ?? []) if (!candidates.has(uid)) candidates.set(uid, pools[i]!);
    });
    const rows = await Promise.all(
      [...candidates].slice(0, LOOKUP_MAX).map(async ([uid, namedIn]): Promise<LookupRow | null> => {
        // Read only hashes that exist: a read of a missing one may seed it from the audit trail (getUser).
        const pool = namedIn ?? (await store.poolOf(uid));
        if (!(await this.exists(uid, pool))) return null;
        const u = await store.getUser(uid, pool);
        // The name index keeps people for a while after they changed their name: exact matches only.
        if (namedIn !== null && (u.name ?? '').trim().toLowerCase() !== query.trim().toLowerCase()) return null;
        return { userId: u.userId, name: u.name ?? '', pool: u.pool, state: u.state, matchId: u.matchId, since: u.lastStateChange };
      }),
    );
    return rows.filter((r): r is LookupRow => r !== null);
  }

  async userDetail(userId: string) {
    const { store, database, sanctions } = this.svc;
    const db = database.db;
    const pool = await store.poolOf(userId);
    const live = (await this.exists(userId, pool)) ? await store.getUser(userId, pool) : null;
    const [history, ms, moderation, [about], [by], banned, lowTrust] = await Promise.all([
      db.select().from(stateTransitions).where(eq(stateTransitions.userId, userId)).orderBy(desc(stateTransitions.at)).limit(50),
      db
        .select()
        .from(matches)
        .where(or(eq(matches.userA, userId), eq(matches.userB, userId)))
        .orderBy(desc(matches.createdAt))
        .limit(20),
      db.select().from(moderationActions).where(eq(moderationActions.userId, userId)).orderBy(desc(moderationActions.at)).limit(100),
      db.select({ n: count() }).from(reports).where(eq(reports.reportedId, userId)),
      db.select({ n: count() }).from(reports).where(eq(reports.reporterId, userId)),
      sanctions.isBanned(userId),
      sanctions.isLowTrust(userId),
    ]);
    const lastBan = moderation.find((m) => m.action === 'ban');
    return {
      user: live,
      history,
      matches: ms,
      moderation,
      reportsAbout: Number(about?.n ?? 0),
      reportsBy: Number(by?.n ?? 0),
      banned: banned ? { until: lastBan?.endsAt?.getTime() ?? null, reason: lastBan?.reason ?? '' } : null,
      lowTrust,
    };
  }

  /** Ends a match wherever it is: both people rest, told a moderator ended it. */
  async endMatch(matchId: string, actor: string, reason: string): Promise<{ ok: true; users: string[] }> {
    const { store } = this.svc;
    const pool = await this.poolOfMatch(matchId);
    if (!pool) throw new NotInMatchError();
    const notice = { code: 'OPERATOR_ENDED', message: USER_MESSAGES.OPERATOR_ENDED };
    const r = await store.close({ pool, matchId, actor, reason, notice });
    return { ok: true, users: r.users };
  }

  /**
   * Ends the person's match (their partner re-queued), puts them at rest and closes their sockets
   * on every process. The transitions name `actor`; `reason`, the operator's words, is kept with
   * the action itself (operator_actions), as the transitions' reason is a category analysts count.
   */
  async disconnect(userId: string, actor: string): Promise<{ ok: true }> {
    await this.endSession(userId, actor);
    return { ok: true };
  }

  private async exists(uid: string, pool: string): Promise<boolean> {
    return (await this.svc.redis.exists(this.svc.store.keys.user(pool, uid))) === 1;
  }

  /** The pool whose keys hold the match (one pipelined EXISTS per pool, the pools being bounded). */
  private async poolOfMatch(matchId: string): Promise<string | null> {
    const { store } = this.svc;
    const pools = await store.pools();
    const res = await pipelineAcross(
      this.svc.redis,
      pools.map((pool): Queued => {
        const k = store.keys.match(pool, matchId);
        return [k, (p) => p.exists(k)];
      }),
    );
    const i = res.findIndex(([, v]) => v === 1);
    return i < 0 ? null : pools[i]!;
  }
}
