/**
 * Dead letters: outbox entries the drain gave up on, kept in Postgres with their error for an
 * operator to inspect and replay (status 'pending' until someone acts on them). Storing one must
 * never fail on the same data that made the record fail: strings are made storable (records.ts:
 * NUL characters and unpaired surrogates, which Postgres text and jsonb refuse, are replaced)
 * before they are written; and should Postgres still refuse a letter, a stub naming the entry and
 * the error is stored instead.
 */
import type { Logger } from '../infra/logger';
import type { Db } from '../infra/postgres';
import { describeDbError, isTransientDbError } from './db-errors';
import { direct, type DbGuard } from './db-guard';
import { storable, type OutboxEntry } from './records';
import { deadLetters, type NewDeadLetter } from './schema';

const OUTBOX_SOURCE = 'audit_outbox';

export interface Letter {
  pool: string;
  streamId: string;
  kind: string | null;
  eventId: string | null;
  payload: unknown;
  error: string;
  attempts: number;
}

export function letterForEntry(entry: OutboxEntry, error: string, attempts: number): Letter {
  return { pool: entry.pool, streamId: entry.streamId, kind: entry.rec.kind, eventId: entry.rec.eventId, payload: entry.rec, error, attempts };
}

/** An entry that could not even be read: keep its raw fields (the record is in there). */
export function letterForRaw(pool: string, streamId: string, fields: string[], error: string, kind: string | null, eventId: string | null): Letter {
  return { pool, streamId, kind, eventId, payload: { fields }, error, attempts: 1 };
}

function deadLetterRow(l: Letter, now: Date): NewDeadLetter {
  return {
    id: storable(`outbox:${l.pool}:${l.streamId}`),
    at: now,
    source: OUTBOX_SOURCE,
    kind: storable(l.kind),
    eventId: storable(l.eventId),
    payload: storable(l.payload ?? null),
    error: storable(l.error),
    attempts: l.attempts,
    status: 'pending',
  };
}

/** Idempotent by id (`outbox:<pool>:<stream id>`): a redelivered dead letter is stored once. */
export async function storeDeadLetters(db: Db, letters: Letter[], now: Date): Promise<void> {
  if (letters.length === 0) return;
  await db
    .insert(deadLetters)
    .values(letters.map((l) => deadLetterRow(l, now)))
    .onConflictDoNothing();
}

/**
 * Dead letters must not become a new way to block the outbox: if Postgres refuses the letters
 * (not merely unreachable: that is rethrown), stubs without the payload are stored; if even those
 * are refused, the entries are logged in full and the caller acknowledges them anyway.
 */
export async function storeDeadLettersSafely(db: Db, letters: Letter[], now: Date, log: Logger, guard: DbGuard = direct): Promise<void> {
  if (letters.length === 0) return;
  try {
    await guard(() => storeDeadLetters(db, letters, now));
  } catch (e) {
    if (isTransientDbError(e)) throw e;
    const refusal = describeDbError(e);
    const stubs = letters.map((l) => stubLetter(l, refusal));
    try {
      await guard(() => storeDeadLetters(db, stubs, now));
    } catch (e2) {
      if (isTransientDbError(e2)) throw e2;
      log.error({ err: e2, letters }, 'dead letters could not be stored; logged here and acknowledged');
    }
  }
}

/** The letter without its payload, for when Postgres refused the letter itself. */
export function stubLetter(l: Letter, refusal: string): Letter {
  return { ...l, payload: { unstorable: true, refusal }, kind: l.kind === null ? null : l.kind.slice(0, 100), eventId: l.eventId?.slice(0, 200) ?? null };
}
