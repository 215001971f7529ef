/**
 * The dead-letter queue operators work (admin.deadLetters.*) over the real dead_letters table:
 * letters are stored the way the drain stores them (dead-letters.ts), then listed, retried
 * through the drain's writer, or discarded.
 */
import { BrokenCircuitError } from 'cockatiel';
import { describe, expect, it } from 'vitest';
import { DeadLetterNotFoundError, DeadLetterQueue, DeadLetterRetryFailedError } from '../../server/audit/dead-letter-queue';
import { letterForEntry, letterForRaw, storeDeadLetters, stubLetter, type Letter } from '../../server/audit/dead-letters';
import type { DbGuard } from '../../server/audit/db-guard';
import type { OutboxRecord } from '../../server/audit/records';
import { applyRecords } from '../../server/audit/writer';
import { openTestDb, POOL, transition, type TestDb } from './support';

function letter(rec: OutboxRecord, streamId: string, error = '22003 value out of range'): Letter {
  return letterForEntry({ pool: POOL, streamId, rec }, error, 1);
}

async function store(db: TestDb, letters: Letter[], at = new Date()): Promise<void> {
  await storeDeadLetters(db.database.db, letters, at);
}

const ended = { kind: 'match_ended' as const, eventId: 'e-ended', pool: POOL, at: 5_000, matchId: 'm9', reason: 'end', endedBy: 'b' };
const created = { kind: 'match_created' as const, eventId: 'e-created', pool: POOL, at: 1_000, matchId: 'm9', userA: 'a', userB: 'b', mode: 'direct' };

describe('admin.deadLetters over the dead_letters table', () => {
  it('lists pending letters newest first, a page at a time, and other statuses when asked', async () => {
    await using db = await openTestDb();
    const queue = new DeadLetterQueue(db.database.db);
    for (let i = 0; i < 5; i++) await store(db, [letter(transition(`u${i}`, 'IDLE', 'WAITING', 1000), `100-${i}`)], new Date(Date.UTC(2026, 0, 1, 0, i)));
    expect((await queue.list()).map((l) => l.id)).toEqual([4, 3, 2, 1, 0].map((i) => `outbox:${POOL}:100-${i}`));
    expect((await queue.list({ offset: 1, limit: 2 })).map((l) => l.id)).toEqual([3, 2].map((i) => `outbox:${POOL}:100-${i}`));

    await queue.discard(`outbox:${POOL}:100-2`);
    expect((await queue.list()).map((l) => l.id)).not.toContain(`outbox:${POOL}:100-2`);
    expect((await queue.list({ status: 'discarded' })).map((l) => [l.id, l.status])).toEqual([[`outbox:${POOL}:100-2`, 'discarded']]);
    expect(await queue.countPending()).toBe(4);
  });

  it('a retry that fails keeps the letter pending with one more attempt and the new error, and says why', async () => {
    await using db = await openTestDb();
    const queue = new DeadLetterQueue(db.database.db);
    const id = `outbox:${POOL}:200-0`;
    await store(db, [letter(ended, '200-0', 'match m9 is not in Postgres yet')]);

    const failed = await queue.retry(id).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(DeadLetterRetryFailedError);
    expect((failed as Error).message).toBe(
      `Dead letter ${id} was not written again (match m9 is not in Postgres yet). It stays pending after 2 attempts: fix the cause, then retry or discard it.`,
    );
    expect(await queue.list()).toEqual([expect.objectContaining({ id, status: 'pending', attempts: 2, error: 'match m9 is not in Postgres yet' })]);
  });

  it('a retry that succeeds writes the record through the drain writer and marks the letter retried; a second retry changes nothing', async () => {
    await using db = await openTestDb();
    const queue = new DeadLetterQueue(db.database.db);
    const id = `outbox:${POOL}:300-0`;
    await store(db, [letter(ended, '300-0')]);
    await applyRecords(db.database.db, [created]); // the cause is fixed: the match row is there now

    expect(await queue.retry(id)).toMatchObject({ id, status: 'retried', attempts: 2 });
    expect(await db.rows("select end_reason, ended_by from matches where id = 'm9'")).toEqual([{ end_reason: 'end', ended_by: 'b' }]);
    expect(await queue.list()).toEqual([]);
    expect(await queue.retry(id)).toMatchObject({ id, status: 'retried', attempts: 2 });
  });

  it('an entry that could not be read is parsed again on retry: still unreadable fails, a readable one is written', async () => {
    await using db = await openTestDb();
    const queue = new DeadLetterQueue(db.database.db);
    const future = JSON.stringify({ kind: 'from_the_future', eventId: 'x1', pool: POOL, at: 1000 });
    const readable = transition('u-raw', 'IDLE', 'WAITING', 2000);
    await store(db, [
      letterForRaw(POOL, '400-0', ['e', future], 'unknown kind "from_the_future"', 'from_the_future', 'x1'),
      letterForRaw(POOL, '400-1', ['e', JSON.stringify(readable)], 'an older server did not know this record', null, null),
    ]);

    await expect(queue.retry(`outbox:${POOL}:400-0`)).rejects.toThrow(/unknown kind "from_the_future"/);
    expect(await queue.retry(`outbox:${POOL}:400-1`)).toMatchObject({ status: 'retried' });
    expect(await db.rows(`select user_id from state_transitions where event_id = '${readable.eventId}'`)).toEqual([{ user_id: 'u-raw' }]);
  });

  it('a stub (Postgres refused the letter itself) has nothing to retry, and says so', async () => {
    await using db = await openTestDb();
    const queue = new DeadLetterQueue(db.database.db);
    await store(db, [stubLetter(letter(transition('u', 'IDLE', 'WAITING', 1), '500-0'), '22P05 unsupported Unicode escape sequence')]);
    await expect(queue.retry(`outbox:${POOL}:500-0`)).rejects.toThrow(/the record itself was not stored .*nothing to write/);
  });

  it('a retry refused by the Postgres policy (breaker open) is a failed retry, not a lost letter', async () => {
    await using db = await openTestDb();
    const refusing: DbGuard = () => Promise.reject(new BrokenCircuitError());
    const queue = new DeadLetterQueue(db.database.db, refusing);
    await store(db, [letter(transition('u', 'IDLE', 'WAITING', 1), '600-0')]);
    const failed = await queue.retry(`outbox:${POOL}:600-0`).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(DeadLetterRetryFailedError);
    expect((failed as DeadLetterRetryFailedError).cause).toBeInstanceOf(BrokenCircuitError);
    expect(await queue.list()).toEqual([expect.objectContaining({ status: 'pending', attempts: 2 })]);
  });

  it('discard marks a letter discarded without writing it; discarding again is harmless; a discarded letter can still be retried', async () => {
    await using db = await openTestDb();
    const queue = new DeadLetterQueue(db.database.db);
    const rec = transition('u-d', 'IDLE', 'WAITING', 1000);
    const id = `outbox:${POOL}:700-0`;
    await store(db, [letter(rec, '700-0')]);

    expect(await queue.discard(id)).toMatchObject({ id, status: 'discarded', attempts: 1 });
    expect(await queue.discard(id)).toMatchObject({ id, status: 'discarded', attempts: 1 });
    expect(await db.rows('select 1 from state_transitions')).toEqual([]);
    expect(await queue.retry(id)).toMatchObject({ id, status: 'retried' });
    expect(await queue.discard(id)).toMatchObject({ id, status: 'retried' }); // already written: nothing to discard
  });

  it('an id that names no letter is a NOT_FOUND error for retry and discard', async () => {
    await using db = await openTestDb();
    const queue = new DeadLetterQueue(db.database.db);
    await expect(queue.retry('outbox:global:nope')).rejects.toBeInstanceOf(DeadLetterNotFoundError);
    await expect(queue.discard('outbox:global:nope')).rejects.toMatchObject({ code: 'DEAD_LETTER_NOT_FOUND', httpCode: 'NOT_FOUND' });
  });
});
