/**
 * VersionFloors: versions keep going up for users first seen after Redis lost its data.
 *
 * The rebuild (epoch.ts) restores the users of the last checkpoint with their versions. Anyone
 * else (idle at the checkpoint, or active since) has no hash in the new Redis, and the state
 * scripts would create it at version 0, writing (user, version) pairs Postgres already holds.
 * So for IDLE_TTL_MS after a data loss (the time the lost hash would have lived; a user who
 * comes back later would have started from 0 anyway, loss or not), the first read of a user with
 * no hash (StateQueries.onMissingUser: every call reads the caller's state first) asks Postgres
 * for their last transition and creates their hash at rest from its version, before any script
 * runs. The pool they were in is gone with the data too (every user would read as in the
 * default pool), so it comes from that transition as well: they are put back where they were,
 * and a next call in the same pool needs no move (a move would start a new hash).
 *
 * Best effort: if Postgres cannot answer, the user starts from what Redis has (a warning is
 * logged); it never fails the read.
 */
import type { RedisClient } from '../infra/redis';
import type { Logger } from '../infra/logger';
import type { Clock } from '../shared/clock';
import type { Keys } from '../state/keys';
import type { UserHash } from '../state/queries';
import type { Scripts } from '../state/scripts';
import { State } from '../state/states';

/** What the floors need to know about the epoch (EpochGuard). */
export interface FloorWindow {
  /** Resolves once Redis's data has been checked after the last reconnect (bounded wait; may reject). */
  checked(): Promise<void>;
  /** Until when (ms) users first seen again get their versions from the audit trail; 0 after no loss. */
  floorsUntil(): number;
}

export interface VersionFloorDeps {
  redis: RedisClient;
  /** Runs scripts/seed-version-2.lua (as checkpoint_seed_version). */
  scripts: Scripts;
  keys: Keys;
  /** A user's last pool and version in the audit trail (Checkpointer.lastSeen). */
  lastSeen(uid: string): Promise<{ pool: string; version: number } | null>;
  /** Runs the seeding script as state scripts run (the pool's bulkhead, the Redis policy, the epoch gate). */
  run<T>(pool: string, fn: () => Promise<T>): Promise<T>;
  window: FloorWindow;
  clock: Clock;
  log: Logger;
  idleTtlMs: number;
}

export class VersionFloors {
  constructor(private readonly d: VersionFloorDeps) {}

  /** For StateQueries.onMissingUser: the user's hash (and pool), created at rest at their audit trail's version, or null. */
  readonly seed = async (uid: string, readPool: string): Promise<{ pool: string; hash: UserHash } | null> => {
    try {
      await this.d.window.checked();
      if (this.d.clock.now() >= this.d.window.floorsUntil()) return null;
      const last = await this.d.lastSeen(uid);
      const pool = last?.pool ?? readPool;
      if (pool !== readPool) {
        // The pool read was the default because the user's own pointer is gone: restore it, unless
        // someone set one meanwhile (then the next read sees it).
        if ((await this.d.redis.set(this.d.keys.userPool(uid), pool, 'NX')) !== 'OK') return null;
        await this.d.redis.sadd(this.d.keys.pools(), pool);
      }
      // Seeded even at 0 (no history): the hash then exists, so the next read does not ask Postgres again.
      const flat = await this.d.run(pool, () =>
        this.d.scripts.call<string[]>(
          'checkpoint_seed_version',
          [this.d.keys.user(pool, uid), this.d.keys.state(pool, State.IDLE)],
          [uid, last?.version ?? 0, this.d.clock.now(), this.d.idleTtlMs],
        ),
      );
      const hash: UserHash = {};
      for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i]!] = flat[i + 1]!;
      return { pool, hash };
    } catch (err) {
      this.d.log.warn({ err, uid }, 'could not look up where a returning user left off; Redis starts them where it has them');
      return null;
    }
  };
}
