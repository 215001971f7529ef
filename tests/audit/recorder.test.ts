import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditRecorder, recordBreaker, recordError, recordRecovery } from '../../server/audit/recorder';
import { ErrorSpool } from '../../server/audit/spool';
import type { BreakerState, Dependency, ErrorRecord, RecoveryRecord } from '../../server/resilience/model';
import { systemClock } from '../../server/shared/clock';
import { drainFor, openOutbox, openTestDb, silent } from './support';

describe('AuditRecorder as the resilience audit trail (real Redis and Postgres)', () => {
  it("the resilience domain's errors, recoveries and breaker changes land in their tables", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rv-audit-recorder-'));
    await using db = await openTestDb();
    await using outbox = await openOutbox();
    try {
      const recorder = new AuditRecorder(
        outbox.redis,
        outbox.keys,
        new ErrorSpool({ dir, maxBytes: 1 << 20 }),
        { appendTimeoutMs: 1000, spoolRetryMs: 1000 },
        silent,
        systemClock,
      );
      // The wiring app.ts uses: resilience's records go through the recorder unchanged.
      const trail = {
        error: (r: ErrorRecord) => recordError(recorder, r),
        recovery: (r: RecoveryRecord) => recordRecovery(recorder, r),
        breaker: (dependency: Dependency, state: BreakerState, at: number) => recordBreaker(recorder, { dependency, state, at, instance: 'p1' }),
      };
      const at = Date.UTC(2026, 10, 4, 8, 0, 0);
      const error: ErrorRecord = {
        at,
        category: 'transient',
        type: 'postgres',
        severity: 'medium',
        strategy: 'retry_backoff',
        code: '57P01',
        message: 'terminating connection due to administrator command',
        operation: 'block',
        dependency: 'postgres',
        pool: null,
        userId: 'u7',
        recovered: true,
        outcome: 'recovered',
      };
      const recovery: RecoveryRecord = {
        at,
        strategy: 'retry_backoff',
        outcome: 'recovered',
        durationMs: 321,
        failureType: 'postgres',
        operation: 'block',
        pool: null,
      };
      await trail.error(error);
      await trail.recovery(recovery);
      await trail.breaker('postgres', 'half_open', at);
      await drainFor(outbox, db).flush();

      expect(await db.rows('select type, code, operation, recovered, user_id, context, at from errors')).toEqual([
        {
          type: 'postgres',
          code: '57P01',
          operation: 'block',
          recovered: true,
          user_id: 'u7',
          context: { dependency: 'postgres', outcome: 'recovered' },
          at: expect.stringMatching(/^2026-11-04 08:00:00/) as unknown,
        },
      ]);
      expect(await db.rows('select failure_type, outcome, duration_ms, context from recoveries')).toEqual([
        { failure_type: 'postgres', outcome: 'recovered', duration_ms: 321, context: { operation: 'block' } },
      ]);
      expect(await db.rows('select dependency, state, instance from breaker_events')).toEqual([{ dependency: 'postgres', state: 'half_open', instance: 'p1' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a message cut to size never splits a surrogate pair, and a huge context is replaced by a preview', async () => {
    const appended: unknown[] = [];
    const sink = { append: async (r: unknown) => void appended.push(r), now: () => 1 };
    await recordError(sink, { category: 'c', type: 't', severity: 's', message: 'x'.repeat(1999) + '😀', context: { blob: 'y'.repeat(20_000) } });
    const rec = appended[0] as { message: string; context: { truncated?: boolean } };
    expect(rec.message).toBe('x'.repeat(1999));
    expect(rec.context.truncated).toBe(true);
  });
});
