/**
 * Checkpoints: a periodic snapshot of every active user (not IDLE) and every active match into
 * Postgres `checkpoints` (kind `user` | `match`), beside the audit drain's transition log. They are
 * the source for rolling a user or a match back (admin) and for rebuilding Redis when it comes
 * back empty (see epoch.ts). Reads use ZRANGE in batches (never KEYS). Every Postgres call runs
 * through `guard` (the Postgres policy in the server), so a snapshot during an outage fails fast
 * once the breaker is open and counts toward it until then.
 */
import { randomUUID } from 'node:crypto';
import { and, desc, eq, gte } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { direct, type DbGuard } from '../audit/db-guard';
import { checkpoints } from '../audit/schema';
import type { Db } from '../infra/postgres';
import type { Clock } from '../shared/clock';
import { State } from '../state/states';
import { hasHistory, lastSeen, maxVersions } from './versions';
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

export class Checkpointer {
  constructor(
    private readonly redis: Redis,
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
    const [row] = await this.guard(() =>
      this.db
        .select()
        .from(checkpoints)
        .where(and(eq(checkpoints.kind, 'user'), eq(checkpoints.subjectId, uid)))
        .orderBy(desc(checkpoints.at))
        .limit(1),
    );
    return (row?.snapshot as UserSnapshot | undefined) ?? null;
  }

  async latestMatch(mid: string): Promise<MatchSnapshot | null> {
    const [row] = await this.guard(() =>
      this.db
        .select()
        .from(checkpoints)
        .where(and(eq(checkpoints.kind, 'match'), eq(checkpoints.subjectId, mid)))
        .orderBy(desc(checkpoints.at))
        .limit(1),
    );
    return (row?.snapshot as MatchSnapshot | undefined) ?? null;
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

  /** The last version of each user in the audit trail (see versions.ts). */
  lastVersions(uids: readonly string[]): Promise<Map<string, number>> {
    return maxVersions(this.db, uids, this.guard);
  }

  /** A user's last pool and version in the audit trail (see versions.ts). */
  lastSeen(uid: string): Promise<{ pool: string; version: number } | null> {
    return lastSeen(this.db, uid, this.guard);
  }

  /** Whether the audit trail holds any transition (a brand-new deployment's does not). */
  hasHistory(): Promise<boolean> {
    return hasHistory(this.db, this.guard);
  }
}
