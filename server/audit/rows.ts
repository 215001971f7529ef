/**
 * How a batch of outbox records maps onto audit rows. Pure: the writer sends each group as one
 * JSON document per statement. Row keys are the SQL column names.
 *
 * Match records touch one mutable row per match: match_created inserts it, match_connected /
 * match_ended / match_room update it. Within a batch only the first connected/ended of a match
 * counts (the stream is in causal order and the writer also guards with IS NULL) and the last
 * room wins. Each update keeps the indexes of the records behind it, so the writer can defer
 * exactly those records when their match row is not in Postgres yet.
 */
import type { ErrorRecord, OutboxRecord, RepairRecord } from './records';

export type Row = Record<string, unknown>;

export interface MatchUpdate {
  row: Row;
  /** Positions in the batch of the records this update stands for. */
  indexes: number[];
}

export interface BatchRows {
  transitions: Row[];
  errors: Row[];
  recoveries: Row[];
  breakers: Row[];
  checkpoints: Row[];
  webhooks: Row[];
  chats: Row[];
  matchCreates: Row[];
  connected: Map<string, MatchUpdate>;
  ended: Map<string, MatchUpdate>;
  rooms: Map<string, MatchUpdate>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const opt = <T>(v: T | undefined | null): T | null => v ?? null;
const intOrNull = (v: number | undefined) => (v === undefined || v === null ? null : Math.round(v));

export function toRows(records: readonly OutboxRecord[]): BatchRows {
  const out: BatchRows = {
    transitions: [],
    errors: [],
    recoveries: [],
    breakers: [],
    checkpoints: [],
    webhooks: [],
    chats: [],
    matchCreates: [],
    connected: new Map(),
    ended: new Map(),
    rooms: new Map(),
  };
  const firstWins = (map: Map<string, MatchUpdate>, id: string, row: Row, index: number) => {
    const u = map.get(id);
    if (u) u.indexes.push(index);
    else map.set(id, { row, indexes: [index] });
  };
  records.forEach((r, i) => {
    switch (r.kind) {
      case 'transition':
        out.transitions.push({
          event_id: r.eventId,
          at: iso(r.at),
          user_id: r.userId,
          pool: r.pool,
          from_state: r.from,
          to_state: r.to,
          reason: opt(r.reason),
          match_id: opt(r.matchId),
          actor: opt(r.actor),
          version: r.version,
        });
        break;
      case 'match_created':
        out.matchCreates.push({
          id: r.matchId,
          pool: r.pool,
          user_a: r.userA,
          user_b: r.userB,
          mode: r.mode,
          created_at: iso(r.at),
          waited_a_ms: intOrNull(r.waitedA),
          waited_b_ms: intOrNull(r.waitedB),
        });
        break;
      case 'match_connected':
        firstWins(out.connected, r.matchId, { id: r.matchId, at: iso(r.at) }, i);
        break;
      case 'match_ended':
        firstWins(out.ended, r.matchId, { id: r.matchId, at: iso(r.at), reason: r.reason, ended_by: opt(r.endedBy) }, i);
        break;
      case 'match_room': {
        const prev = out.rooms.get(r.matchId);
        out.rooms.set(r.matchId, { row: { id: r.matchId, room: opt(r.room), mode: r.mode }, indexes: [...(prev?.indexes ?? []), i] });
        break;
      }
      case 'error':
      case 'repair':
        out.errors.push(errorRow(r));
        break;
      case 'recovery':
        out.recoveries.push({
          event_id: r.eventId,
          at: iso(r.at),
          failure_type: r.failureType,
          strategy: r.strategy,
          outcome: r.outcome,
          duration_ms: Math.round(r.durationMs),
          context: opt(r.context),
        });
        break;
      case 'breaker':
        out.breakers.push({ event_id: r.eventId, at: iso(r.at), dependency: r.dependency, state: r.state, instance: opt(r.instance) });
        break;
      case 'checkpoint':
        out.checkpoints.push({ event_id: r.eventId, at: iso(r.at), kind: r.checkpointKind, subject_id: r.subjectId, snapshot: r.snapshot ?? null });
        break;
      case 'webhook':
        out.webhooks.push({
          event_id: r.eventId,
          at: iso(r.at),
          event: r.event,
          room: opt(r.room),
          participant: opt(r.participant),
          valid: r.valid,
          payload: opt(r.payload),
        });
        break;
      case 'chat':
        out.chats.push({
          event_id: r.eventId,
          at: iso(r.at),
          pool: r.pool,
          match_id: r.matchId,
          from_user: r.from,
          to_user: r.to,
          client_message_id: r.clientMessageId,
          text: r.text,
          masked: r.masked ? r.masked.split(',') : [],
        });
        break;
    }
  });
  return out;
}

/** A repair (Redis sets disagreed with the user hash and were fixed) is audited as an error row. */
function errorRow(r: ErrorRecord | RepairRecord): Row {
  if (r.kind === 'repair') {
    return {
      event_id: r.eventId,
      at: iso(r.at),
      category: 'persistent',
      type: 'matching',
      severity: 'medium',
      code: 'STATE_REPAIRED',
      operation: 'consistency_check',
      message: 'User state sets disagreed with the user hash and were repaired',
      context: { userId: r.userId, removed: r.removed, added: r.added, state: r.state },
      strategy: 'repair',
      recovered: true,
      user_id: r.userId,
    };
  }
  return {
    event_id: r.eventId,
    at: iso(r.at),
    category: r.category,
    type: r.type,
    severity: r.severity,
    code: opt(r.code),
    operation: opt(r.operation),
    message: r.message,
    context: opt(r.context),
    strategy: opt(r.strategy),
    recovered: opt(r.recovered),
    user_id: opt(r.userId),
  };
}
