/**
 * The last version of each user in the audit trail. Versions live in the user's Redis hash, so a
 * Redis that comes back empty would start everyone at 0 again and write (user, version) pairs
 * that Postgres already holds. A rebuild (epoch.ts) and the seeding of users first seen after it
 * (version-floors.ts) start each user from what is read here instead. Reads by user id use
 * `state_transitions_user_at` (user_id, at); every call runs through the Postgres policy.
 */
import { desc, eq, inArray, max, sql } from 'drizzle-orm';
import { direct, type DbGuard } from '../audit/db-guard';
import { stateTransitions } from '../audit/schema';
import type { Db } from '../infra/postgres';

/** Users per query: keeps the IN list far below Postgres's 65,535 parameters. */
const CHUNK = 1000;

/** The highest version in the audit trail of each of `uids` (users without a row are absent). */
export async function maxVersions(db: Db, uids: readonly string[], guard: DbGuard = direct): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const unique = [...new Set(uids)];
  for (let i = 0; i < unique.length; i += CHUNK) {
    const chunk = unique.slice(i, i + CHUNK);
    const rows = await guard(() =>
      db
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
export async function lastSeen(db: Db, uid: string, guard: DbGuard = direct): Promise<{ pool: string; version: number } | null> {
  const [row] = await guard(() =>
    db
      .select({ pool: stateTransitions.pool, version: stateTransitions.version })
      .from(stateTransitions)
      .where(eq(stateTransitions.userId, uid))
      .orderBy(desc(stateTransitions.at), desc(stateTransitions.version))
      .limit(1),
  );
  return row ?? null;
}

/** Whether the audit trail holds any transition at all (a brand-new deployment's does not). */
export async function hasHistory(db: Db, guard: DbGuard = direct): Promise<boolean> {
  const rows = await guard(() =>
    db
      .select({ one: sql<number>`1` })
      .from(stateTransitions)
      .limit(1),
  );
  return rows.length > 0;
}
