/**
 * Checkpoints: a periodic snapshot of every active user (not IDLE) and every active match into
 * Postgres `checkpoints` (kind `user` | `match`), beside the audit drain's transition log. They are
 * the source for rolling a user or a match back (admin) and for rebuilding Redis when it comes
 * back empty (see epoch.ts). Reads use ZRANGE in batches (never KEYS). Every Postgres call runs
 * through `guard` (the Postgres policy in the server), so a snapshot during an outage fails fast
 * once the breaker is open and counts toward it until then.
 *
 * Versions live in the user's Redis hash, so a Redis that comes back empty would start everyone at
 * 0 again and write (user, version) pairs Postgres already holds. A rebuild (epoch.ts) and the
 * seeding of users first seen after it (version-floors.ts) start each user from their last version
 * in the audit trail instead (lastVersions, lastSeen: read by `state_transitions_user_at`).
 */
import { randomUUID } from 'node:crypto';
import { and, desc, eq, gte, inArray, max, sql } from 'drizzle-orm';
import type { RedisClient } from '../infra/redis';
import { direct, type DbGuard } from '../audit/db-guard';
import { checkpoints, stateTransitions } from '../audit/schema';
import type { Db } from '../infra/postgres';
import type { Clock } from '../shared/clock';
import { State } from '../state/states';
import type { StateStore } from '../state/store';

export interface UserSnapshot {
  pool: string;
  userId: string;
  state: State;
  score: number;
  name: string;
  matchId: string | null;
  matchedWith: string | null;
  waitingSince: number | null;
  version: number;
}

export interface MatchSnapshot {
  pool: string;
  matchId: string;
  a: string;
  b: string;
  status: string;
  createdAt: number;
}

const ACTIVE = [State.WAITING, State.CONNECTING, State.IN_CALL, State.DISCONNECTING];
const PAGE = 500;
/** Users per query: keeps the IN list far below Postgres's 65,535 parameters. */
const VERSION_CHUNK = 1000;

export class Checkpointer {
  constructor(
    private readonly redis: RedisClient,
    private readonly store: StateStore,
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly guard: DbGuard = direct,
  ) {}

  /** Snapshot every active user and match of every pool. Returns what was written. */
  async snapshot(): Promise<{ users: number; matches: number }> {
    const run = randomUUID();
    const at = new Date(this.clock.now());
    let users = 0;
    const matchIds = new Map<string, string>();
    for (const pool of await this.store.pools()) {
      for (const state of ACTIVE) {
        for (let offset = 0; ; offset += PAGE) {
          const page = await this.redis.zrange(this.store.keys.state(pool, state), String(offset), String(offset + PAGE - 1), 'WITHSCORES');
          if (page.length === 0) break;
          const rows: Array<typeof checkpoints.$inferInsert> = [];
          for (let i = 0; i < page.length; i += 2) {
            const uid = page[i]!;
            const h = await this.redis.hgetall(this.store.keys.user(pool, uid));
            if (!h.state) continue;
            const snap: UserSnapshot = {
              pool,
              userId: uid,
              state: h.state as State,
              score: Number(page[i + 1]),
              name: h.name ?? '',
              matchId: h.matchId || null,
              matchedWith: h.matchedWith || null,
              waitingSince: h.waitingSince ? Number(h.waitingSince) : null,
              version: Number(h.version ?? 0),
            };
            if (snap.matchId) matchIds.set(snap.matchId, pool);
            rows.push({ eventId: `ckpt-${run}-u-${uid}`, at, kind: 'user', subjectId: uid, snapshot: snap });
          }
          if (rows.length) await this.guard(() => this.db.insert(checkpoints).values(rows).onConflictDoNothing());
          users += rows.length;
          if (page.length < PAGE * 2) break;
        }
      }
    }
    const matchRows: Array<typeof checkpoints.$inferInsert> = [];
    for (const [mid, pool] of matchIds) {
      const m = await this.redis.hgetall(this.store.keys.match(pool, mid));
      if (!m.a || !m.b) continue;
      const snap: MatchSnapshot = { pool, matchId: mid, a: m.a, b: m.b, status: m.status ?? 'unknown', createdAt: Number(m.createdAt ?? 0) };
      matchRows.push({ eventId: `ckpt-${run}-m-${mid}`, at, kind: 'match', subjectId: mid, snapshot: snap });
    }
    for (let i = 0; i < matchRows.length; i += PAGE) {
      const page = matchRows.slice(i, i + PAGE);
      await this.guard(() => this.db.insert(checkpoints).values(page).onConflictDoNothing());
    }
    return { users, matches: matchRows.length };
  }

  async latestUser(uid: string): Promise<UserSnapshot | null> {
    return (await this.latest('user', uid)) as UserSnapshot | null;
  }

  async latestMatch(mid: string): Promise<MatchSnapshot | null> {
    return (await this.latest('match', mid)) as MatchSnapshot | null;
  }

  private async latest(kind: 'user' | 'match', subjectId: string): Promise<unknown> {
    const [row] = await this.guard(() =>
      this.db
        .select()
        .from(checkpoints)
        .where(and(eq(checkpoints.kind, kind), eq(checkpoints.subjectId, subjectId)))
        .orderBy(desc(checkpoints.at))
        .limit(1),
    );
    return row?.snapshot ?? null;
  }

  /** The newest snapshot of every user taken since `since` (for a rebuild after data loss). */
  async latestUsersSince(since: Date): Promise<UserSnapshot[]> {
    const rows = await this.guard(() =>
      this.db
        .selectDistinctOn([checkpoints.subjectId], { snapshot: checkpoints.snapshot })
        .from(checkpoints)
        .where(and(eq(checkpoints.kind, 'user'), gte(checkpoints.at, since)))
        .orderBy(checkpoints.subjectId, desc(checkpoints.at)),
    );
    return rows.map((r) => r.snapshot as UserSnapshot);
  }

  /** The highest version in the audit trail of each of `uids` (users without a row are absent). */
  async lastVersions(uids: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const unique = [...new Set(uids)];
    for (let i = 0; i < unique.length; i += VERSION_CHUNK) {
      const chunk = unique.slice(i, i + VERSION_CHUNK);
      const rows = await this.guard(() =>
        this.db
          .select({ userId: stateTransitions.userId, version: max(stateTransitions.version) })
          .from(stateTransitions)
          .where(inArray(stateTransitions.userId, chunk))
          .groupBy(stateTransitions.userId),
      );
      for (const r of rows) if (r.version !== null) out.set(r.userId, Number(r.version));
    }
    return out;
  }

  /** A user's last transition in the audit trail: the pool it was in and its version (null: none). */
  async lastSeen(uid: string): Promise<{ pool: string; version: number } | null> {
    const [row] = await this.guard(() =>
      this.db
        .select({ pool: stateTransitions.pool, version: stateTransitions.version })
        .from(stateTransitions)
        .where(eq(stateTransitions.userId, uid))
        .orderBy(desc(stateTransitions.at), desc(stateTransitions.version))
        .limit(1),
    );
    return row ?? null;
  }

  /** Whether the audit trail holds any transition (a brand-new deployment's does not). */
  async hasHistory(): Promise<boolean> {
    const rows = await this.guard(() =>
      this.db
        .select({ one: sql<number>`1` })
        .from(stateTransitions)
        .limit(1),
    );
    return rows.length > 0;
  }
}
