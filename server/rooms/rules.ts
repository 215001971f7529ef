/**
 * Pure rules of the rooms domain, shared by the service, the webhook handler, the janitor and
 * the reconciler.
 */
import { NotInMatchError } from '../state/errors';
import type { RoomRecord } from './room-records';

/** Every room we make is named `room_<uuid>`; LiveKit rooms without the prefix are not ours. */
export const ROOM_PREFIX = 'room_';

/** What the match hash says about a match (status: connecting | active | ended | rolled_back | gone). */
export interface MatchInfo {
  status: string;
  mode: string | null;
  room: string | null;
}

/** The match is still on: its users are CONNECTING or IN_CALL in it. */
export const isMatchOn = (m: MatchInfo): boolean => m.status === 'connecting' || m.status === 'active';

/** The room is being or has been deleted. */
export const isOver = (rec: RoomRecord): boolean => rec.status === 'terminating' || rec.status === 'terminated';

export function isMember(rec: RoomRecord, identity: string): boolean {
  return identity !== '' && (identity === rec.a || identity === rec.b);
}

/** The pair moved on meanwhile (left, expired): nothing to do. Anything else (Redis down) is an error. */
export function ignoreNotInMatch(err: unknown): void {
  if (!(err instanceof NotInMatchError)) throw err;
}

/** The pool we wrote into the room's LiveKit metadata, if it parses. */
export function poolFromMetadata(metadata: string | undefined): string | null {
  if (!metadata) return null;
  try {
    const pool = (JSON.parse(metadata) as { pool?: unknown }).pool;
    return typeof pool === 'string' && pool ? pool : null;
  } catch {
    return null;
  }
}
