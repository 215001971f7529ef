/**
 * Consistency check (maintenance; uses SCAN, never KEYS): every user must be in exactly one state
 * set, the one their hash names, and in the lobby exactly while waiting and present. Finds users
 * in no set, in two sets, or in the wrong set, and repairs each with the atomic repair script
 * (the hash is the truth).
 */
import type { Redis } from 'ioredis';
import { STATES } from './states';
import type { StateStore } from './store';

export interface ConsistencyReport {
  scanned: number;
  inconsistent: Array<{ userId: string; removed: string[]; added: string | null; lobby?: 'added' | 'removed' | null }>;
}

export async function checkConsistency(redis: Redis, store: StateStore, pool: string, repair: boolean): Promise<ConsistencyReport> {
  const k = store.keys;
  const membership = new Map<string, string[]>();
  for (const s of STATES) {
    let cursor = '0';
    do {
      const [next, flat] = await redis.zscan(k.state(pool, s), cursor, 'COUNT', 500);
      cursor = next;
      for (let i = 0; i < flat.length; i += 2) {
        const uid = flat[i]!;
        membership.set(uid, [...(membership.get(uid) ?? []), s]);
      }
    } while (cursor !== '0');
  }
  const lobby = new Set<string>();
  let lc = '0';
  do {
    const [next, flat] = await redis.zscan(k.lobby(pool), lc, 'COUNT', 500);
    lc = next;
    for (let i = 0; i < flat.length; i += 2) lobby.add(flat[i]!);
  } while (lc !== '0');
  for (const uid of lobby) if (!membership.has(uid)) membership.set(uid, []);
  const prefix = k.user(pool, '');
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]]/g, '\\$&')}*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const uid = key.slice(prefix.length);
      if (!membership.has(uid)) membership.set(uid, []);
    }
  } while (cursor !== '0');

  const report: ConsistencyReport = { scanned: membership.size, inconsistent: [] };
  for (const [uid, sets] of membership) {
    const [state, droppedAt] = await redis.hmget(k.user(pool, uid), 'state', 'droppedAt');
    const ok = state !== null && sets.length === 1 && sets[0] === state && lobby.has(uid) === (state === 'WAITING' && droppedAt === null);
    if (ok) continue;
    if (repair) {
      const r = await store.repair({ uid, pool });
      report.inconsistent.push({ userId: uid, removed: r.removed, added: r.added, lobby: r.lobby });
    } else {
      report.inconsistent.push({ userId: uid, removed: sets.filter((s) => s !== state), added: null });
    }
  }
  return report;
}
