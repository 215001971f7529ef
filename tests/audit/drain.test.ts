import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { DbGuard } from '../../server/audit/db-guard';
import { OutboxDrain } from '../../server/audit/drain';
import { AUDIT_GROUP } from '../../server/audit/outbox-stream';
import { drainFor, fastDrain, manyTransitions, matchLifecycle, openOutbox, openTestDb, POOL, silent, transition, connection } from './support';

const WAIT = { timeout: 15_000, interval: 25 };

/** A logger whose lines can be read back. */
function capture() {
  const lines: Array<{ level: number; msg: string; [key: string]: unknown }> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
  return { log, lines };
}

describe('the outbox drain (real Redis and Postgres)', () => {
  it('writes every record once, in order-sensitive match rows too, and removes acknowledged entries', async () => {
    await using db = await openTestDb();
    await using outbox = await openOutbox();
    const t0 = Date.UTC(2026, 10, 2, 10, 0, 0);
    const records = [...matchLifecycle('m1', 'ann', 'bob', t0), ...manyTransitions(250, t0)];
    await outbox.add(records);
    const drain = drainFor(outbox, db, { batch: 64 });
    await drain.flush();

    const [n] = await db.rows<{ total: number; distinct: number }>(
      'select count(*)::int as total, count(distinct event_id)::int as distinct from state_transitions',
    );
    expect(n).toEqual({ total: records.length - 3, distinct: records.length - 3 });
    const [m] = await db.rows<Record<string, unknown>>(
      'select user_a, user_b, waited_a_ms, waited_b_ms, end_reason, ended_by, connected_at is not null as connected from matches',
    );
    expect(m).toEqual({ user_a: 'ann', user_b: 'bob', waited_a_ms: 1000, waited_b_ms: 2000, end_reason: 'skip', ended_by: 'ann', connected: true });
    expect(await outbox.length()).toBe(0);
    expect(await outbox.pending()).toBe(0);
  });

  it('under light load the drain lingers after a part batch, so records arriving meanwhile share one transaction', async () => {
    await using db = await openTestDb();
    await using outbox = await openOutbox();
    const batches: number[] = [];
    const drain = drainFor(outbox, db, { lingerMs: 300 }, { onBatch: (rows) => batches.push(rows) });
    drain.start();
    try {
      await outbox.add(manyTransitions(1));
      await vi.waitFor(() => expect(batches).toEqual([1]), WAIT);
      // Five records, one at a time, while the drain lingers: one batch of five, not five of one.
      for (const r of manyTransitions(5)) {
        await outbox.add([r]);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await vi.waitFor(() => expect(batches).toEqual([1, 5]), WAIT);
    } finally {
      await drain.stop();
    }
    expect(await outbox.length()).toBe(0);
  });

  it('a drain that dies between the Postgres commit and XACK is taken over by another consumer, and no event is written twice', async () => {
    await using db = await openTestDb();
    await using outbox = await openOutbox();
    const t0 = Date.UTC(2026, 10, 2, 11, 0, 0);
    const records = [...matchLifecycle('m2', 'cy', 'di', t0), ...manyTransitions(80, t0)];
    await outbox.add(records);

    const dying = drainFor(
      outbox,
      db,
      { batch: 1000 },
      {
        afterCommit: () => {
          throw new Error('killed after commit, before XACK');
        },
      },
    );
    await expect(dying.drainOnce()).rejects.toThrow('killed after commit');
    // Committed but not acknowledged: everything is in Postgres and still pending in Redis.
    const [before] = await db.rows<{ n: number }>('select count(*)::int as n from state_transitions');
    expect(before!.n).toBe(records.length - 3);
    expect(await outbox.pending()).toBe(records.length);

    const conn = await connection(outbox);
    const heir = drainFor(outbox, db, { claimIdleMs: 50 }, {}, conn);
    heir.start();
    try {
      await vi.waitFor(async () => expect(await outbox.length()).toBe(0), WAIT);
    } finally {
      await heir.stop();
      conn.disconnect();
    }
    const [after] = await db.rows<{ total: number; distinct: number }>(
      'select count(*)::int as total, count(distinct event_id)::int as distinct from state_transitions',
    );
    expect(after).toEqual({ total: records.length - 3, distinct: records.length - 3 });
    const matches = await db.rows<{ n: number }>("select count(*)::int as n from matches where id = 'm2' and ended_at is not null");
    expect(matches[0]!.n).toBe(1);
    expect(await outbox.pending()).toBe(0);
  });

  it('a record Postgres refuses for its values goes to dead_letters at its first delivery, with one log line, and the rest of its batch commits', async () => {
    await using db = await openTestDb();
    await using outbox = await openOutbox();
    const { log, lines } = capture();
    const tooBig = transition('big', 'IDLE', 'WAITING', Date.now(), { reason: 'enqueue', version: 2 ** 31 }); // integer column: 22003
    const tooLate = transition('late', 'IDLE', 'WAITING', 8e15, { reason: 'enqueue' }); // year 255479: no timestamptz
    const records = [...manyTransitions(40), tooBig, ...manyTransitions(40), tooLate, ...manyTransitions(20)];
    await outbox.add(records);
    const deadLettered: string[] = [];
    const drain = new OutboxDrain(outbox.redis, db.database.db, outbox.keys, async () => [POOL], { ...fastDrain, batch: 1000, maxDeliveries: 5 }, log, {
      onDeadLetter: (e) => void deadLettered.push(e.streamId),
    });

    // One round settles the whole batch: 100 committed, 2 dead-lettered, nothing left to retry.
    expect(await drain.drainOnce()).toBe(records.length);
    expect((await db.rows<{ n: number }>('select count(*)::int as n from state_transitions'))[0]!.n).toBe(100);
    const letters = await db.rows<{ event_id: string; attempts: number; error: string }>('select event_id, attempts, error from dead_letters');
    expect(letters).toHaveLength(2);
    expect(letters).toEqual(
      expect.arrayContaining([
        { event_id: tooBig.eventId, attempts: 1, error: expect.stringMatching(/^22003 /) as string },
        { event_id: tooLate.eventId, attempts: 1, error: expect.stringMatching(/^22\w{3} /) as string },
      ]),
    );
    expect(deadLettered).toHaveLength(2);
    await drain.flush();
    expect(await outbox.length()).toBe(0);
    expect(await outbox.pending()).toBe(0);
    // One line each, and no "will retry" before it.
    expect(lines.filter((l) => l.level >= 40).map((l) => [l.msg, l.kind])).toEqual([
      ['audit record moved to dead_letters', 'transition'],
      ['audit record moved to dead_letters', 'transition'],
    ]);
  });

  it('a record with NUL or half a surrogate pair in any string is written with U+FFFD there, not dead-lettered', async () => {
    await using db = await openTestDb();
    await using outbox = await openOutbox();
    const at = Date.now();
    await outbox.add([
      transition('nul\u0000user', 'IDLE', 'WAITING', at, { reason: 'enqueue\uD800' }),
      {
        kind: 'error',
        eventId: 'e-nul',
        pool: POOL,
        at,
        category: 'c',
        type: 't',
        severity: 's',
        message: 'quoted: a\u0000b',
        context: { 'k\u0000': ['\uDC00'] },
      },
      {
        kind: 'webhook',
        eventId: 'w-nul',
        pool: POOL,
        at,
        event: 'participant_left',
        room: 'r\u0000',
        participant: null,
        valid: false,
        payload: { body: 'x\u0000' },
      },
    ]);
    await drainFor(outbox, db).flush();

    expect(await db.rows('select user_id, reason from state_transitions')).toEqual([{ user_id: 'nul\uFFFDuser', reason: 'enqueue\uFFFD' }]);
    expect(await db.rows('select message, context from errors')).toEqual([{ message: 'quoted: a\uFFFDb', context: { 'k\uFFFD': ['\uFFFD'] } }]);
    expect(await db.rows('select room, payload from webhook_events')).toEqual([{ room: 'r\uFFFD', payload: { body: 'x\uFFFD' } }]);
    expect(await db.rows('select 1 from dead_letters')).toHaveLength(0);
    expect(await outbox.length()).toBe(0);
  });

  it('a chat record becomes one transcript row however often it is delivered; one without its text is a dead letter', async () => {
    await using db = await openTestDb();
    await using outbox = await openOutbox();
    const at = Date.UTC(2026, 10, 2, 10, 0, 0);
    const chat = { kind: 'chat', eventId: 'c-1', pool: POOL, at, matchId: 'm1', from: 'ann', to: 'bob', clientMessageId: 'cm-1' } as const;
    await outbox.add([
      { ...chat, text: 'mail a@b.com, you tw\u0000t', masked: 'email,word' },
      { ...chat, text: 'mail a@b.com, you tw\u0000t', masked: 'email,word' },
      { ...chat, eventId: 'c-2', text: 'plain', masked: '' },
    ]);
    await outbox.add([{ ...chat, eventId: 'c-3' } as never]);
    await drainFor(outbox, db).flush();

    expect(await db.rows('select event_id, from_user, to_user, text, masked from chat_messages order by event_id')).toEqual([
      { event_id: 'c-1', from_user: 'ann', to_user: 'bob', text: 'mail a@b.com, you tw\uFFFDt', masked: ['email', 'word'] },
      { event_id: 'c-2', from_user: 'ann', to_user: 'bob', text: 'plain', masked: [] },
    ]);
    expect(await db.rows("select kind, event_id from dead_letters where error like '%text%'")).toEqual([{ kind: 'chat', event_id: 'c-3' }]);
  });

  it('a transient failure (the server restarting) keeps the batch whole and retries it, never dead-letters it', async () => {
    await using db = await openTestDb();
    await using outbox = await openOutbox();
    await outbox.add(manyTransitions(30));
    let refusals = 3;
    const restarting = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    const guard: DbGuard = (fn) => (refusals-- > 0 ? Promise.reject(restarting) : fn());
    const drain = new OutboxDrain(outbox.redis, db.database.db, outbox.keys, async () => [POOL], { ...fastDrain, maxDeliveries: 1 }, silent, {}, guard);
    for (let i = 0; i < 3; i++) await expect(drain.drainOnce()).rejects.toBe(restarting);
    await drain.flush();
    expect((await db.rows<{ n: number }>('select count(*)::int as n from state_transitions'))[0]!.n).toBe(30);
    expect(await db.rows('select 1 from dead_letters')).toHaveLength(0);
    expect(await outbox.length()).toBe(0);
  });

  it('an entry that is not a readable record goes to dead_letters at once, without retries', async () => {
    await using db = await openTestDb();
    await using outbox = await openOutbox();
    await outbox.add(manyTransitions(5));
    await outbox.redis.xadd(outbox.key(), '*', 'e', '{not json');
    await outbox.redis.xadd(outbox.key(), '*', 'e', JSON.stringify({ kind: 'from_the_future', eventId: 'x1', pool: POOL, at: Date.now() }));
    await drainFor(outbox, db).flush();

    const letters = await db.rows<{ kind: string | null; attempts: number; error: string }>('select kind, attempts, error from dead_letters order by id');
    expect(letters).toEqual([
      { kind: null, attempts: 1, error: expect.stringMatching(/not JSON/) as string },
      { kind: 'from_the_future', attempts: 1, error: expect.stringMatching(/unknown kind/) as string },
    ]);
    expect((await db.rows<{ n: number }>('select count(*)::int as n from state_transitions'))[0]!.n).toBe(5);
    expect(await outbox.length()).toBe(0);
  });

  it('the delivery count comes from Redis, so a record keeps its count across consumers and restarts', async () => {
    await using db = await openTestDb();
    await using outbox = await openOutbox();
    // The end of a match whose creation never reaches Postgres: retried (it might), until maxDeliveries.
    await outbox.add([{ kind: 'match_ended', eventId: 'e-orphan', pool: POOL, at: Date.now(), matchId: 'm-never', reason: 'end' }]);
    // First process: one failed delivery, then it goes away.
    const first = drainFor(outbox, db, { maxDeliveries: 2 });
    await first.drainOnce();
    expect(await outbox.pending()).toBe(1);
    expect(await db.rows('select 1 from dead_letters')).toHaveLength(0);

    // A new process (new consumer, empty memory) claims it: second delivery, and out it goes.
    const conn = await connection(outbox);
    const second = drainFor(outbox, db, { maxDeliveries: 2, claimIdleMs: 20 }, {}, conn);
    second.start();
    try {
      await vi.waitFor(async () => expect(await db.rows('select 1 from dead_letters')).toHaveLength(1), WAIT);
    } finally {
      await second.stop();
      conn.disconnect();
    }
    expect(await outbox.length()).toBe(0);
  });

  it('a match_ended drained before its match_created is deferred until the match row exists, not lost', async () => {
    await using db = await openTestDb();
    await using outbox = await openOutbox();
    const [created, ended] = [
      { kind: 'match_created' as const, eventId: 'e-created', pool: POOL, at: 1_000, matchId: 'm9', userA: 'a', userB: 'b', mode: 'direct' },
      { kind: 'match_ended' as const, eventId: 'e-ended', pool: POOL, at: 5_000, matchId: 'm9', reason: 'end', endedBy: 'b' },
    ];
    // Another consumer holds the batch with match_created; this one sees match_ended first.
    await outbox.add([ended]);
    const drain = drainFor(outbox, db, { claimIdleMs: 30, maxDeliveries: 5 });
    await drain.drainOnce();
    expect(await outbox.pending()).toBe(1);
    await outbox.add([created]);
    drain.start();
    try {
      await vi.waitFor(async () => {
        const rows = await db.rows<{ end_reason: string | null; ended_by: string | null }>("select end_reason, ended_by from matches where id = 'm9'");
        expect(rows).toEqual([{ end_reason: 'end', ended_by: 'b' }]);
      }, WAIT);
    } finally {
      await drain.stop();
    }
    expect(await db.rows('select 1 from dead_letters')).toHaveLength(0);
  });

  it('a deferred record is applied again by the consumer holding it as soon as its match row is in, not a claim period later', async () => {
    await using db = await openTestDb();
    await using outbox = await openOutbox();
    const [created, ended] = [
      { kind: 'match_created' as const, eventId: 'e-created-2', pool: POOL, at: 1_000, matchId: 'm10', userA: 'a', userB: 'b', mode: 'direct' },
      { kind: 'match_ended' as const, eventId: 'e-ended-2', pool: POOL, at: 5_000, matchId: 'm10', reason: 'skip', endedBy: 'a' },
    ];
    await outbox.add([ended]);
    const holder = drainFor(outbox, db, { claimIdleMs: 60_000, maxDeliveries: 5 });
    await holder.drainOnce();
    expect(await outbox.pending()).toBe(1);
    // Another process writes the match's creation.
    await outbox.add([created]);
    const conn = await connection(outbox);
    const other = drainFor(outbox, db, { claimIdleMs: 60_000 }, {}, conn);
    await other.drainOnce();
    expect(await db.rows("select 1 from matches where id = 'm10'")).toHaveLength(1);

    holder.start();
    try {
      await vi.waitFor(async () => expect(await db.rows("select 1 from matches where id = 'm10' and end_reason = 'skip'")).toHaveLength(1), { timeout: 3000 });
    } finally {
      await holder.stop();
      conn.disconnect();
    }
    expect(await outbox.length()).toBe(0);
    expect(await db.rows('select 1 from dead_letters')).toHaveLength(0);
  });

  it('entries Redis delivered on a read that failed on our side (a timeout while Redis was frozen) are read back from our own pending list at once', async () => {
    await using db = await openTestDb();
    await using outbox = await openOutbox();
    const conn = await connection(outbox);
    const drain = drainFor(outbox, db, { claimIdleMs: 60_000 }, {}, conn);
    await outbox.add(manyTransitions(3));
    await drain.drainOnce(); // the group exists; these three are written
    await outbox.add(manyTransitions(4));
    // Redis runs the read and delivers the entries to this consumer, but the reply never arrives.
    const real = conn.call.bind(conn);
    const spy = vi.spyOn(conn, 'call').mockImplementationOnce(async (...args: Parameters<typeof conn.call>) => {
      await real(...args);
      throw new Error('Command timed out');
    });
    await expect(drain.drainOnce()).rejects.toThrow(/timed out/);
    expect(await outbox.pending()).toBe(4);
    spy.mockRestore();

    await drain.drainOnce();
    expect((await db.rows<{ n: number }>('select count(*)::int as n from state_transitions'))[0]!.n).toBe(7);
    expect(await outbox.length()).toBe(0);
    conn.disconnect();
  });

  it('after a failed read, records this consumer keeps deferred on purpose do not stop it reading new ones', async () => {
    await using db = await openTestDb();
    await using outbox = await openOutbox();
    const conn = await connection(outbox);
    const drain = drainFor(outbox, db, { batch: 2, claimIdleMs: 60_000 }, {}, conn);
    // Three ends of a match not in Postgres: deferred, pending for this consumer (more than a page).
    const ended = (i: number) => ({
      kind: 'match_ended' as const,
      eventId: `e-orphan-${i}`,
      pool: POOL,
      at: 5_000,
      matchId: 'm-late',
      reason: 'end',
      endedBy: 'a',
    });
    await outbox.add([ended(1), ended(2), ended(3)]);
    await drain.drainOnce();
    await drain.drainOnce();
    expect(await outbox.pending()).toBe(3);
    // The read of new entries times out on our side.
    const real = conn.call.bind(conn);
    const spy = vi.spyOn(conn, 'call').mockImplementation(async (...args: Parameters<typeof conn.call>) => {
      if (args[0] === 'XREADGROUP' && args.at(-1) === '>') throw new Error('Command timed out');
      return real(...args);
    });
    await expect(drain.drainOnce()).rejects.toThrow(/timed out/);
    spy.mockRestore();
    await outbox.add(manyTransitions(2));
    for (let i = 0; i < 5; i++) await drain.drainOnce();
    expect((await db.rows<{ n: number }>('select count(*)::int as n from state_transitions'))[0]!.n).toBe(2);
    conn.disconnect();
  });

  it('a deferred record another consumer has since taken over and written is dropped by the first, not retried for good', async () => {
    await using db = await openTestDb();
    await using outbox = await openOutbox();
    const { log, lines } = capture();
    log.level = 'debug';
    const holder = new OutboxDrain(outbox.redis, db.database.db, outbox.keys, async () => [POOL], { ...fastDrain, claimIdleMs: 60_000 }, log);
    await outbox.add([{ kind: 'match_ended', eventId: 'e-taken', pool: POOL, at: 5_000, matchId: 'm12', reason: 'end', endedBy: 'a' }]);
    await holder.drainOnce();
    const deferrals = () => lines.filter((l) => l.msg.startsWith('audit records deferred')).length;
    expect(deferrals()).toBe(1);
    // Another consumer claims it, and (its match written meanwhile) acknowledges it.
    const [id] = (await outbox.redis.xrange(outbox.key(), '-', '+')).map(([i]) => i);
    await outbox.redis.call('XCLAIM', outbox.key(), AUDIT_GROUP, 'someone-else', 0, id!);
    await outbox.redis.multi().xack(outbox.key(), AUDIT_GROUP, id!).xdel(outbox.key(), id!).exec();

    await new Promise((r) => setTimeout(r, 150));
    await holder.drainOnce();
    await new Promise((r) => setTimeout(r, 250));
    await holder.drainOnce();
    expect(deferrals()).toBe(1);
  });

  it('lag is the age of the oldest unacknowledged entry, and zero once the outbox is drained', async () => {
    await using db = await openTestDb();
    await using outbox = await openOutbox();
    await outbox.add(manyTransitions(30));
    const drain = drainFor(outbox, db);
    const waiting = await drain.lag();
    expect(waiting.backlog).toBe(30);
    expect(waiting.lagMs).toBeGreaterThanOrEqual(0);
    await drain.flush();
    expect(await drain.lag()).toEqual({ lagMs: 0, backlog: 0 });
  });
});
