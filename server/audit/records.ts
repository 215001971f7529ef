/**
 * Outbox records: what the state scripts append to a pool's outbox stream, and how each kind
 * maps onto audit rows. Pure: parsing and grouping only; the drain does the I/O.
 */
import type { NewStateTransition } from './schema';

export interface OutboxEntry {
  streamId: string;
  pool: string;
  rec: OutboxRecord;
}

export type OutboxRecord =
  | { kind: 'transition'; eventId: string; pool: string; at: number; userId: string; from: string; to: string; reason?: string | null; matchId?: string | null; actor?: string | null; version: number }
  | { kind: 'match_created'; eventId: string; pool: string; at: number; matchId: string; userA: string; userB: string; mode: string; waitedA?: number; waitedB?: number }
  | { kind: 'match_connected'; eventId: string; pool: string; at: number; matchId: string }
  | { kind: 'match_ended'; eventId: string; pool: string; at: number; matchId: string; reason: string; endedBy?: string | null }
  | { kind: 'match_room'; eventId: string; pool: string; at: number; matchId: string; room: string; mode: string }
  | { kind: 'repair'; eventId: string; pool: string; at: number; userId: string; removed: unknown; added: unknown; state: unknown }
  | { kind: 'error'; eventId: string; pool: string; at: number; category: string; type: string; severity: string; code?: string; operation?: string; message: string; context?: unknown; strategy?: string; recovered?: boolean; userId?: string };

export class PoisonRecordError extends Error {
  readonly code = 'POISON_RECORD';
}

export function parseEntry(pool: string, streamId: string, fields: string[]): OutboxEntry {
  const json = fields[1];
  if (fields[0] !== 'e' || json === undefined) throw new PoisonRecordError(`outbox entry ${streamId} has no payload`);
  let rec: OutboxRecord;
  try {
    rec = JSON.parse(json) as OutboxRecord;
  } catch (e) {
    throw new PoisonRecordError(`outbox entry ${streamId} is not JSON`, { cause: e });
  }
  if (!rec || typeof rec.eventId !== 'string' || typeof rec.kind !== 'string' || typeof rec.at !== 'number') {
    throw new PoisonRecordError(`outbox entry ${streamId} lacks eventId, kind or at`);
  }
  return { streamId, pool, rec };
}

export function toTransitionRow(r: Extract<OutboxRecord, { kind: 'transition' }>): NewStateTransition {
  return {
    eventId: r.eventId,
    at: new Date(r.at),
    userId: r.userId,
    pool: r.pool,
    fromState: r.from,
    toState: r.to,
    reason: r.reason ?? null,
    matchId: r.matchId ?? null,
    actor: r.actor ?? null,
    version: r.version,
  };
}

/** The time an outbox entry was appended, from its stream id. */
export function streamIdTime(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}
