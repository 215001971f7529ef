/**
 * The audit pipeline under the Postgres policy: the policy's own refusals (breaker open, attempt
 * timed out, bulkhead full) are transient, so a batch waits in the outbox and is never split or
 * dead-lettered for them; and with a real Postgres stopped, the breaker opens, the records wait,
 * and once Postgres is back the breaker closes and every record is written exactly once.
 */
import { BrokenCircuitError, BulkheadRejectedError, TaskCancelledError } from 'cockatiel';
import { describe, expect, it, vi } from 'vitest';
import { isTransientDbError } from '../../server/audit/db-errors';
import { storeDeadLettersSafely, type Letter } from '../../server/audit/dead-letters';
import { OutboxDrain } from '../../server/audit/drain';
import { applyIsolating } from '../../server/audit/isolate';
import type { OutboxEntry } from '../../server/audit/records';
import type { Db } from '../../server/infra/postgres';
import { createDependencyPolicy } from '../../server/resilience/dependency-policy';
import { startPostgresServer } from '../support/postgres-server';
import { connection, fastDrain, manyTransitions, openOutbox, openTestDb, POOL, silent } from '../audit/support';
import { testDependency } from './support';

const REFUSALS = [new BrokenCircuitError(), new TaskCancelledError(), new BulkheadRejectedError(10, 100)];

function entries(n: number): OutboxEntry[] {
  return manyTransitions(n).map((rec, i) => ({ pool: POOL, streamId: `1-${i}`, rec }));
}

describe('the audit pipeline under the Postgres policy', () => {
  it.each(REFUSALS.map((e) => [e.constructor.name, e] as const))('%s is transient: the batch is kept whole, never split', async (_name, refusal) => {
    expect(isTransientDbError(refusal)).toBe(true);
    let calls = 0;
    const apply = () => {
      calls++;
      return Promise.reject(refusal);
    };
    await expect(applyIsolating(apply, entries(8))).rejects.toBe(refusal);
    expect(calls).toBe(1);
  });

  it('dead letters refused by the policy are neither stubbed nor dropped: the refusal reaches the drain, which retries later', async () => {
    const letter: Letter = { pool: POOL, streamId: '1-0', kind: 'transition', eventId: 'e1', payload: {}, error: 'bad row', attempts: 5 };
    let guarded = 0;
    const refusing = <T>(): Promise<T> => {
      guarded++;
      return Promise.reject(new BrokenCircuitError());
    };
    await expect(storeDeadLettersSafely({} as Db, [letter], new Date(), silent, refusing)).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(guarded).toBe(1);
  });

  it(
    'Postgres stopped: the breaker opens, records wait in the outbox and none is dead-lettered; back: it closes and each is written once',
    { timeout: 120_000 },
    async () => {
      await using pg = await startPostgresServer();
      await using db = await openTestDb('postgres', pg.url);
      await using outbox = await openOutbox();
      const conn = await connection(outbox);
      const states: string[] = [];
      // Small numbers so the test is quick: three failed attempts open it, a probe after 500 ms.
      const policy = createDependencyPolicy(
        'postgres',
        testDependency({ timeoutMs: 2000, retry: { maxAttempts: 1, initialDelay: 20, maxDelay: 20 }, breaker: { failureThreshold: 3, resetTimeout: 500 } }),
        { hooks: { onBreakerState: (_d, s) => void states.push(s) } },
      );
      const deadLetters: string[] = [];
      const drain = new OutboxDrain(
        conn,
        db.database.db,
        outbox.keys,
        async () => [POOL],
        { ...fastDrain, maxDeliveries: 1 },
        silent,
        { onDeadLetter: (e) => void deadLetters.push(e.streamId) },
        (fn) => policy.execute(fn),
      );
      const count = async () =>
        (await db.rows<{ n: number; d: number }>('select count(*)::int as n, count(distinct event_id)::int as d from state_transitions'))[0]!;
      drain.start();
      try {
        await outbox.add(manyTransitions(50));
        await vi.waitFor(async () => expect((await count()).n).toBe(50), { timeout: 20_000, interval: 50 });

        await pg.stop();
        await outbox.add(manyTransitions(300));
        await vi.waitFor(() => expect(policy.state()).toBe('open'), { timeout: 20_000, interval: 20 });
        // Open: the drain's next attempts are refused at once, and the records stay in Redis.
        await new Promise((r) => setTimeout(r, 1500));
        expect(await outbox.length()).toBe(300);

        await pg.start();
        await vi.waitFor(async () => expect(await outbox.length()).toBe(0), { timeout: 60_000, interval: 100 });
        expect(await count()).toEqual({ n: 350, d: 350 });
        expect(policy.state()).toBe('closed');
        expect(states[0]).toBe('open');
        expect(states.at(-1)).toBe('closed');
        expect(deadLetters).toEqual([]);
        expect((await db.rows<{ n: number }>('select count(*)::int as n from dead_letters'))[0]!.n).toBe(0);
      } finally {
        await drain.stop();
        conn.disconnect();
      }
    },
  );
});
