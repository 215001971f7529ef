/**
 * Consistency check (maintenance; uses SCAN, never KEYS): every user must be in exactly one state
 * set, the one their hash names, and in the lobby exactly while waiting and present. Finds users
 * in no set, in two sets, or in the wrong set, and repairs each with the atomic repair script
 * (the hash is the truth).
 */
import { scanKeys, type RedisClient } from '../infra/redis';
import { STATES, State } from './states';
import type { StateStore } from './store';

export interface ConsistencyReport {
  scanned: number;
  inconsistent: Array<{ userId: string; removed: string[]; added: string | null; lobby?: 'added' | 'removed' | null }>;
}

/** Who belongs in the lobby (repair-2.lua is the atomic version of this rule). */
const inLobby = (state: string | null, droppedAt: string | null) => state === 'WAITING' && droppedAt === null;

/**
 * The lobby part of the check alone, for the cleanup job: only the WAITING set and the lobby are
 * scanned (not every user hash), and each user on one side that does not belong, or is missing on
 * the other, is repaired. Returns how many were. This catches people queued by a build from
 * before the lobby (an upgrade, or an older process during a rolling deploy).
 */
export async function repairLobby(redis: RedisClient, store: StateStore, pool: string, batch: number): Promise<number> {
  const k = store.keys;
  let fixed = 0;
  for (const [set, other] of [
    [k.state(pool, State.WAITING), k.lobby(pool)],
    [k.lobby(pool), k.state(pool, State.WAITING)],
  ] as const) {
    let cursor = '0';
    do {
      const [next, flat] = await redis.zscan(set, cursor, 'COUNT', batch);
      cursor = next;
      const uids = flat.filter((_, i) => i % 2 === 0);
      if (uids.length === 0) continue;
      const pipe = redis.pipeline();
      for (const uid of uids) pipe.zscore(other, uid).hmget(k.user(pool, uid), 'state', 'droppedAt');
      const res = ((await pipe.exec()) ?? []).map(([, v]) => v);
      for (const [i, uid] of uids.entries()) {
        const [state, droppedAt] = res[2 * i + 1] as [string | null, string | null];
        const inWaiting = set === k.lobby(pool) ? res[2 * i] !== null : true;
        const inTheLobby = set === k.lobby(pool) ? true : res[2 * i] !== null;
        if (inTheLobby === inLobby(state, droppedAt) && inWaiting === (state === State.WAITING)) continue;
        await store.repair({ uid, pool });
        fixed++;
      }
    } while (cursor !== '0');
  }
  return fixed;
}

export async function checkConsistency(redis: RedisClient, store: StateStore, pool: string, repair: boolean): Promise<ConsistencyReport> {
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
  for await (const keys of scanKeys(redis, `${prefix.replace(/[*?[\]]/g, '\\$&')}*`, 500)) {
    for (const key of keys) {
      const uid = key.slice(prefix.length);
      if (!membership.has(uid)) membership.set(uid, []);
    }
  }

  const report: ConsistencyReport = { scanned: membership.size, inconsistent: [] };
  for (const [uid, sets] of membership) {
    const [state, droppedAt] = await redis.hmget(k.user(pool, uid), 'state', 'droppedAt');
    const ok = state !== null && sets.length === 1 && sets[0] === state && lobby.has(uid) === inLobby(state ?? null, droppedAt ?? null);
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
