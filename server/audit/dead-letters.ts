/**
 * Dead letters: outbox entries the drain gave up on, kept in Postgres with their error for an
 * operator to inspect and replay (status 'pending' until someone acts on them). Storing one must
 * never fail on the same data that made the record fail: strings are cleaned of NUL characters
 * and unpaired surrogates, which Postgres text and jsonb refuse, before they are written; and
 * should Postgres still refuse a letter, a stub naming the entry and the error is stored instead.
 */
import type { Logger } from '../infra/logger';
import type { Db } from '../infra/postgres';
import { describeDbError, isTransientDbError } from './db-errors';
import { direct, type DbGuard } from './db-guard';
import type { OutboxEntry } from './records';
import { deadLetters, type NewDeadLetter } from './schema';

export const OUTBOX_SOURCE = 'audit_outbox';

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

export function deadLetterRow(l: Letter, now: Date): NewDeadLetter {
  return {
    id: clean(`outbox:${l.pool}:${l.streamId}`),
    at: now,
    source: OUTBOX_SOURCE,
    kind: l.kind === null ? null : clean(l.kind),
    eventId: l.eventId === null ? null : clean(l.eventId),
    payload: cleanJson(l.payload),
    error: clean(l.error),
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
    try {
      await guard(() =>
        storeDeadLetters(
          db,
          letters.map((l) => stubLetter(l, refusal)),
          now,
        ),
      );
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

/** NUL, and a UTF-16 surrogate without its pair: neither can be stored as text or jsonb. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what has to go
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
export const clean = (s: string) => s.replace(UNSTORABLE, '\uFFFD');

function cleanJson(v: unknown): unknown {
  const text = JSON.stringify(v ?? null, (_key, value: unknown) => (typeof value === 'string' ? clean(value) : value));
  return JSON.parse(clean(text)) as unknown;
}
