import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { connection, drainFor, manyTransitions, matchLifecycle, openOutbox, openTestDb } from './support';

const CHILD = fileURLToPath(new URL('./fixtures/drain-child.ts', import.meta.url));

describe('a drain process killed mid-batch', () => {
  it(
    'SIGKILL after the Postgres commit and before XACK: another consumer claims the batch and every event is in Postgres exactly once',
    { timeout: 60_000 },
    async () => {
      await using db = await openTestDb();
      await using outbox = await openOutbox();
      const t0 = Date.UTC(2026, 10, 3, 9, 0, 0);
      const records = [...matchLifecycle('mk', 'eve', 'fay', t0), ...manyTransitions(300, t0)];
      await outbox.add(records);

      // node itself with tsx's loader (not the tsx CLI, which would leave its child running after a SIGKILL).
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
        env: { ...process.env, AUDIT_CHILD_DB: db.url!, AUDIT_CHILD_REDIS: outbox.url, AUDIT_CHILD_PREFIX: outbox.keys.root, ...outbox.env },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      await vi.waitFor(() => expect(out).toMatch(/committed \d+/), { timeout: 30_000, interval: 20 });
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;

      // The dead consumer's batch is committed and still pending.
      expect(out).toContain(`committed ${records.length}`);
      expect(await outbox.pending()).toBe(records.length);

      const conn = await connection(outbox);
      const heir = drainFor(outbox, db, { claimIdleMs: 50 }, {}, conn);
      heir.start();
      try {
        await vi.waitFor(async () => expect(await outbox.length()).toBe(0), { timeout: 15_000, interval: 25 });
      } finally {
        await heir.stop();
        conn.disconnect();
      }
      const [t] = await db.rows<{ n: number; d: number }>('select count(*)::int as n, count(distinct event_id)::int as d from state_transitions');
      expect(t).toEqual({ n: records.length - 3, d: records.length - 3 });
      const [m] = await db.rows<{ n: number }>("select count(*)::int as n from matches where id = 'mk' and ended_at is not null and connected_at is not null");
      expect(m!.n).toBe(1);
      expect(await outbox.pending()).toBe(0);
    },
  );
});
