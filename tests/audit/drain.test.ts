import { describe, expect, it, vi } from 'vitest';
import { drainFor, manyTransitions, matchLifecycle, openOutbox, openTestDb, POOL, transition, connection } from './support';

const WAIT = { timeout: 15_000, interval: 25 };

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

    const conn = connection(outbox);
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

  it('a poison event goes to dead_letters with its error after maxDeliveries, and the records around it are written at once', async () => {
    await using db = await openTestDb();
    await using outbox = await openOutbox();
    const before = manyTransitions(40);
    const poison = transition('bad\u0000user', 'IDLE', 'WAITING', Date.now(), { reason: 'enqueue' });
    const after = manyTransitions(40);
    await outbox.add([...before, poison, ...after]);

    const drain = drainFor(outbox, db, { claimIdleMs: 30, maxDeliveries: 3 });
    drain.start();
    try {
      // The good records do not wait for the poison one's retries.
      await vi.waitFor(async () => expect((await db.rows<{ n: number }>('select count(*)::int as n from state_transitions'))[0]!.n).toBe(80), WAIT);
      await vi.waitFor(async () => expect(await outbox.length()).toBe(0), WAIT);
    } finally {
      await drain.stop();
    }
    const letters = await db.rows<{ id: string; kind: string; event_id: string; attempts: number; error: string; status: string }>(
      'select id, kind, event_id, attempts, error, status from dead_letters',
    );
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ kind: 'transition', event_id: poison.eventId, attempts: 3, status: 'pending' });
    expect(letters[0]!.error).toMatch(/22P05|Unicode/);
    expect(await outbox.pending()).toBe(0);
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
    const poison = transition('nul\u0000', 'IDLE', 'WAITING', Date.now());
    await outbox.add([poison]);
    // First process: one failed delivery, then it goes away.
    const first = drainFor(outbox, db, { maxDeliveries: 2 });
    await first.drainOnce();
    expect(await outbox.pending()).toBe(1);
    expect(await db.rows('select 1 from dead_letters')).toHaveLength(0);

    // A new process (new consumer, empty memory) claims it: second delivery, and out it goes.
    const conn = connection(outbox);
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
