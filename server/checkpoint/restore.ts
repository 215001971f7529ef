/**
 * Restoring from checkpoints. The policy, per user state in the snapshot:
 *   WAITING        -> restored to WAITING in its original queue order (safe: nothing else depends on it);
 *   CONNECTING, IN_CALL, DISCONNECTING -> reset to IDLE with a notice: the call's room, signalling
 *                     and the partner's side cannot be trusted after Redis lost them.
 * Admin rollback of a user or a match re-applies the snapshot exactly (force, audited).
 *
 * Versions carry over: a user rebuilt in an empty Redis continues from the larger of their
 * snapshot's version and their last version in the audit trail (`floors`), so the forced
 * transition and every later one get versions no row in Postgres has.
 */
import type { RedisClient } from '../infra/redis';
import { DomainError } from '../state/errors';
import { State } from '../state/states';
import type { StateStore } from '../state/store';
import type { Checkpointer, UserSnapshot } from './snapshot';

const LOST_CALL_NOTICE = {
  code: 'CALL_LOST_IN_RECOVERY',
  message: 'We lost your conversation while our servers recovered. Press Start to find someone new.',
};

export class NoCheckpointError extends DomainError {
  readonly code = 'NO_CHECKPOINT';
  readonly httpCode = 'NOT_FOUND';
  constructor(subject: string) {
    super(`There is no checkpoint for ${subject}.`, { subject });
  }
}

/**
 * Rebuild users from snapshots after Redis came back empty. `floors`: each user's last version
 * in the audit trail. Returns counts per outcome.
 */
export async function restoreUsers(
  redis: RedisClient,
  store: StateStore,
  snaps: UserSnapshot[],
  actor: string,
  floors: ReadonlyMap<string, number> = new Map(),
  rebuild = false,
) {
  const ordered = [...snaps].sort((x, y) => x.score - y.score);
  let restored = 0;
  let reset = 0;
  for (const s of ordered) {
    await redis.set(store.keys.userPool(s.userId), s.pool);
    await redis.sadd(store.keys.pools(), s.pool);
    const minVersion = Math.max(Number(s.version) || 0, floors.get(s.userId) ?? 0);
    const waiting = s.state === State.WAITING;
    await store.force({
      uid: s.userId,
      pool: s.pool,
      actor,
      fields: { name: s.name },
      minVersion,
      rebuild,
      ...(waiting
        ? { to: State.WAITING, reason: 'restore_from_checkpoint', score: s.score }
        : { to: State.IDLE, reason: 'reset_after_data_loss', notice: LOST_CALL_NOTICE }),
    });
    if (waiting) restored++;
    else reset++;
  }
  return { restored, reset };
}

/** Admin: put one user back exactly as their latest checkpoint says. */
export async function rollbackUser(store: StateStore, cp: Checkpointer, uid: string, actor: string) {
  const s = await cp.latestUser(uid);
  if (!s) throw new NoCheckpointError(`user ${uid}`);
  const fields: Record<string, string | number> = { name: s.name };
  if (s.matchId) fields.matchId = s.matchId;
  if (s.matchedWith) fields.matchedWith = s.matchedWith;
  // A user whose hash is gone (Redis lost it) continues from the snapshot's version, not from 0.
  return store.force({ uid, pool: s.pool, to: s.state, actor, reason: 'rollback_to_checkpoint', score: s.score, fields, minVersion: Number(s.version) || 0 });
}

/** Admin: put both users of a match back as the match's latest checkpoint found them. */
export async function rollbackMatch(store: StateStore, cp: Checkpointer, matchId: string, actor: string) {
  const m = await cp.latestMatch(matchId);
  if (!m) throw new NoCheckpointError(`match ${matchId}`);
  return { a: await rollbackUser(store, cp, m.a, actor), b: await rollbackUser(store, cp, m.b, actor) };
}
