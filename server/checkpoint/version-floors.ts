/**
 * VersionFloors: versions keep going up for users first seen after Redis lost its data.
 *
 * The rebuild (epoch.ts) restores the users of the last checkpoint with their versions. Anyone
 * else (idle at the checkpoint, or active since) has no hash in the new Redis, and the state
 * scripts would create it at version 0, writing (user, version) pairs Postgres already holds.
 * So for IDLE_TTL_MS after a data loss (the time the lost hash would have lived; a user who
 * comes back later would have started from 0 anyway, loss or not), the first read of a user with
 * no hash (StateQueries.onMissingUser: every call reads the caller's state first) asks Postgres
 * for their last version and creates their hash at rest from there, before any script runs.
 *
 * Best effort: if Postgres cannot answer, the user starts from what Redis has (a warning is
 * logged); it never fails the read.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { Logger } from '../infra/logger';
import type { Clock } from '../shared/clock';
import type { Keys } from '../state/keys';
import type { UserHash } from '../state/queries';
import { State } from '../state/states';

const SCRIPT = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'scripts', 'seed-version-2.lua'), 'utf8');

type SeedClient = Redis & { rv_seed_version(hash: string, idle: string, uid: string, version: number, now: number, ttlMs: number): Promise<string[]> };

/** What the floors need to know about the epoch (EpochGuard). */
export interface FloorWindow {
  /** Resolves once Redis's data has been checked after the last reconnect (bounded wait; may reject). */
  checked(): Promise<void>;
  /** Until when (ms) users first seen again get their versions from the audit trail; 0 after no loss. */
  floorsUntil(): number;
}

export interface VersionFloorDeps {
  redis: Redis;
  keys: Keys;
  /** The users' last versions in the audit trail (Checkpointer.lastVersions). */
  lastVersions(uids: string[]): Promise<Map<string, number>>;
  /** Runs the seeding script as state scripts run (the pool's bulkhead, the Redis policy, the epoch gate). */
  run<T>(pool: string, fn: () => Promise<T>): Promise<T>;
  window: FloorWindow;
  clock: Clock;
  log: Logger;
  idleTtlMs: number;
}

export class VersionFloors {
  private readonly redis: SeedClient;

  constructor(private readonly d: VersionFloorDeps) {
    if (typeof (d.redis as unknown as Record<string, unknown>).rv_seed_version !== 'function')
      d.redis.defineCommand('rv_seed_version', { lua: SCRIPT, numberOfKeys: 2 });
    this.redis = d.redis as unknown as SeedClient;
  }

  /** For StateQueries.onMissingUser: the user's hash, created at their audit trail's version, or null. */
  readonly seed = async (uid: string, pool: string): Promise<UserHash | null> => {
    try {
      await this.d.window.checked();
      if (this.d.clock.now() >= this.d.window.floorsUntil()) return null;
      const version = (await this.d.lastVersions([uid])).get(uid) ?? 0;
      // Seeded even at 0 (no history): the hash then exists, so the next read does not ask Postgres again.
      const flat = await this.d.run(pool, () =>
        this.redis.rv_seed_version(this.d.keys.user(pool, uid), this.d.keys.state(pool, State.IDLE), uid, version, this.d.clock.now(), this.d.idleTtlMs),
      );
      const h: UserHash = {};
      for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
      return h;
    } catch (err) {
      this.d.log.warn({ err, uid }, 'could not look up the version a returning user continues from; Redis starts them where it has them');
      return null;
    }
  };
}
