/**
 * DeadLetterQueue: what operators do with the operations the server gave up retrying, behind
 * `admin.deadLetters.*`: the audit records the drain could not write (stored by dead-letters.ts),
 * and anything else that retries durably and parks here after its last attempt (`park`: room
 * deletions LiveKit kept refusing). Each letter names its `source`; a source other than the
 * outbox is retried by the replay its domain gave the queue.
 *
 *   list     newest first; pending letters unless another status is asked for
 *   retry    re-applies the stored record through the drain's own writer (writer.ts: idempotent
 *            by event id) under the same guard as the drain's writes (the Postgres policy). Written:
 *            the letter is kept with status 'retried' (kept, not deleted, so dead_letter_summary
 *            and a later look at what went wrong still see it). Not written: it stays pending
 *            with one more attempt and the new error, and the caller gets
 *            DeadLetterRetryFailedError saying why. A discarded letter can be retried (an
 *            operator changed their mind); a retried one is not written again.
 *   discard  marks a pending letter 'discarded'; nothing is written.
 *
 * An id that names no letter is DeadLetterNotFoundError. Retry and discard answer with the letter
 * as it is afterwards, so doing either twice is harmless.
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Db } from '../infra/postgres';
import { DomainError } from '../state/errors';
import { describeDbError } from './db-errors';
import { direct, type DbGuard } from './db-guard';
import { parseEntry, storable, validateRecord, type OutboxRecord } from './records';
import { deadLetters, type DeadLetter } from './schema';
import { applyRecords } from './writer';

export const DEAD_LETTER_STATUSES = ['pending', 'retried', 'discarded'] as const;
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

export interface ListOptions {
  status?: DeadLetterStatus;
  offset?: number;
  limit?: number;
}

export class DeadLetterNotFoundError extends DomainError {
  readonly code = 'DEAD_LETTER_NOT_FOUND';
  readonly httpCode = 'NOT_FOUND';
  constructor(readonly id: string) {
    super(`There is no dead letter with id ${id}.`, { id });
  }
}

/** A retry that did not write the record; the letter stays pending with this error. */
export class DeadLetterRetryFailedError extends DomainError {
  readonly code = 'DEAD_LETTER_RETRY_FAILED';
  readonly httpCode = 'CONFLICT';
  constructor(
    readonly id: string,
    readonly reason: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(
      `Dead letter ${id} was not written again (${reason}). It stays pending after ${attempts} attempts: fix the cause, then retry or discard it.`,
      { id, reason, attempts },
      options,
    );
  }
}

/** Tries a parked operation once more: null when it went through, else why not. */
export type Replay = (letter: DeadLetter) => Promise<string | null>;

/** An operation another domain gives up on: one letter per id (parking it again updates it). */
export interface Parked {
  id: string;
  source: string;
  kind: string;
  payload: unknown;
  error: string;
  attempts: number;
}

export class DeadLetterQueue {
  constructor(
    private readonly db: Db,
    private readonly guard: DbGuard = direct,
    /** By source: how a letter of another domain is retried (the outbox's own are written again). */
    private readonly replays: Record<string, Replay> = {},
    private readonly onParked: () => void = () => undefined,
  ) {}

  /** Parks a failed operation as a pending letter (again pending if it was parked before). */
  async park(p: Parked, now = new Date()): Promise<void> {
    const row = { ...p, at: now, payload: storable(p.payload), error: storable(p.error), status: 'pending' };
    await this.guard(() =>
      this.db
        .insert(deadLetters)
        .values(row)
        .onConflictDoUpdate({ target: deadLetters.id, set: { at: now, error: row.error, attempts: row.attempts, status: 'pending' } }),
    );
    this.onParked();
  }

  list(opts: ListOptions = {}): Promise<DeadLetter[]> {
    return this.db
      .select()
      .from(deadLetters)
      .where(eq(deadLetters.status, opts.status ?? 'pending'))
      .orderBy(desc(deadLetters.at), desc(deadLetters.id))
      .offset(opts.offset ?? 0)
      .limit(opts.limit ?? 50);
  }

  async countPending(): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(deadLetters)
      .where(eq(deadLetters.status, 'pending'));
    return row?.n ?? 0;
  }

  async retry(id: string): Promise<DeadLetter> {
    const letter = await this.get(id);
    if (letter.status === 'retried') return letter;
    let reason: string | null;
    let cause: unknown;
    try {
      reason = await this.apply(letter);
    } catch (e) {
      [reason, cause] = [describeDbError(e), e];
    }
    if (reason === null) return this.settle(id, { status: 'retried', attempts: sql`${deadLetters.attempts} + 1` });
    const after = await this.settle(id, { status: 'pending', attempts: sql`${deadLetters.attempts} + 1`, error: reason });
    throw new DeadLetterRetryFailedError(id, reason, after.attempts, { cause });
  }

  async discard(id: string): Promise<DeadLetter> {
    const [row] = await this.db
      .update(deadLetters)
      .set({ status: 'discarded' })
      .where(and(eq(deadLetters.id, id), eq(deadLetters.status, 'pending')))
      .returning();
    return row ?? this.get(id);
  }

  private async get(id: string): Promise<DeadLetter> {
    const [row] = await this.db.select().from(deadLetters).where(eq(deadLetters.id, id));
    if (!row) throw new DeadLetterNotFoundError(id);
    return row;
  }

  private async settle(id: string, set: PgUpdateSetSource<typeof deadLetters>): Promise<DeadLetter> {
    const [row] = await this.db.update(deadLetters).set(set).where(eq(deadLetters.id, id)).returning();
    if (!row) throw new DeadLetterNotFoundError(id);
    return row;
  }

  /** Writes the letter's record (or runs its domain's replay); null when it went through, else why not. */
  private async apply(letter: DeadLetter): Promise<string | null> {
    const replay = this.replays[letter.source];
    if (replay) return replay(letter);
    const record = recordOf(letter);
    if (typeof record === 'string') return record;
    const { deferred } = await this.guard(() => applyRecords(this.db, [record]));
    return deferred[0]?.reason ?? null;
  }
}

/**
 * The outbox record a letter holds, or why there is none: the record as read (payload), the
 * entry's raw fields when it could not be read (parsed again: a newer server may know its kind),
 * or a stub when Postgres refused the letter itself (dead-letters.ts, stubLetter).
 */
function recordOf(letter: DeadLetter): OutboxRecord | string {
  const payload = letter.payload as { fields?: unknown; unstorable?: unknown; refusal?: unknown } | null;
  if (payload?.unstorable === true) return `the record itself was not stored (Postgres refused it: ${String(payload.refusal)}), so there is nothing to write`;
  try {
    if (Array.isArray(payload?.fields)) {
      const m = /^outbox:([^:]+):(.+)$/.exec(letter.id);
      if (!m) return `the letter's id ${letter.id} does not name an outbox entry`;
      return parseEntry(m[1]!, m[2]!, payload.fields as string[]).rec;
    }
    return validateRecord(payload, `dead letter ${letter.id}`);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
