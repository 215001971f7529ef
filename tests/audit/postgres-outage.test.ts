import { describe, expect, it, vi } from 'vitest';
import { startPostgresServer } from '../support/postgres-server';
import { connection, drainFor, manyTransitions, openOutbox, openTestDb } from './support';

const BATCH = 100;
/** The batch being written plus the one read ahead. */
const IN_HAND = 2 * BATCH;

describe('the drain while Postgres is down', () => {
  it('holds at most two batches, leaves the rest in Redis, and after Postgres returns writes every event exactly once', { timeout: 120_000 }, async () => {
    await using pg = await startPostgresServer();
    await using db = await openTestDb('postgres', pg.url);
    await using outbox = await openOutbox();
    const conn = await connection(outbox);
    let failures = 0;
    const drain = drainFor(outbox, db, { batch: BATCH, claimIdleMs: 60_000 }, { onError: () => void failures++ }, conn);
    const count = async () =>
      (await db.rows<{ n: number; d: number }>('select count(*)::int as n, count(distinct event_id)::int as d from state_transitions'))[0]!;
    drain.start();
    try {
      await outbox.add(manyTransitions(500));
      await vi.waitFor(async () => expect((await count()).n).toBe(500), { timeout: 20_000, interval: 50 });

      await pg.stop();
      // Load while it is down: 20 bursts of 1,000 events.
      for (let i = 0; i < 20; i++) {
        await outbox.add(manyTransitions(1000));
        // The drain keeps what it had in hand (at most two batches); nothing more leaves Redis.
        expect(await outbox.pending()).toBeLessThanOrEqual(IN_HAND);
      }
      await vi.waitFor(async () => expect(await outbox.pending()).toBeGreaterThan(0), { timeout: 10_000, interval: 50 });
      expect(await outbox.pending()).toBeLessThanOrEqual(IN_HAND);
      expect(await outbox.length()).toBe(20_000);
      await vi.waitFor(() => expect(failures).toBeGreaterThan(1), { timeout: 10_000 }); // it kept trying
      const lag = await drain.lag();
      expect(lag.backlog).toBe(20_000);

      await pg.start();
      await vi.waitFor(async () => expect(await outbox.length()).toBe(0), { timeout: 60_000, interval: 100 });
      expect(await count()).toEqual({ n: 20_500, d: 20_500 });
      expect(await outbox.pending()).toBe(0);
    } finally {
      await drain.stop();
      conn.disconnect();
    }
  });
});
