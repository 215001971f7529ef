import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from './support';

/**
 * A seeded day (2026-11-02, UTC) with known answers for every analyst view. Rows are inserted
 * directly, with fixed times, into the real tables (partitioned ones included).
 */
const SEED = `
INSERT INTO matches (id, pool, user_a, user_b, mode, created_at, connected_at, ended_at, end_reason, ended_by, waited_a_ms, waited_b_ms) VALUES
  ('m1', 'global', 'a1', 'b1', 'direct', '2026-11-02T10:05:00Z', '2026-11-02T10:05:02Z', '2026-11-02T10:10:02Z', 'skip', 'a1', 1000, 3000),
  ('m2', 'global', 'a2', 'b2', 'livekit', '2026-11-02T10:20:00Z', '2026-11-02T10:20:01Z', '2026-11-02T10:30:01Z', 'end', 'b2', 2000, 4000),
  ('m3', 'global', 'a3', 'b3', 'direct', '2026-11-02T10:40:00Z', NULL, '2026-11-02T10:40:15Z', 'timeout', NULL, 5000, 7000),
  ('m4', 'global', 'a4', 'b4', 'direct', '2026-11-02T11:00:00Z', '2026-11-02T11:00:01Z', '2026-11-02T11:20:01Z', 'disconnect', 'a4', 500, 1500),
  ('m5', 'eu', 'a5', 'b5', 'direct', '2026-11-02T11:30:00Z', NULL, NULL, NULL, NULL, 100, 300);

INSERT INTO state_transitions (event_id, at, user_id, pool, from_state, to_state, reason, match_id, actor, version) VALUES
  ('t1', '2026-11-02T10:10:02Z', 'a1', 'global', 'IN_CALL', 'DISCONNECTING', 'skip', 'm1', NULL, 4),
  ('t2', '2026-11-02T10:10:02Z', 'b1', 'global', 'IN_CALL', 'DISCONNECTING', 'partner_skip', 'm1', NULL, 4),
  ('t3', '2026-11-02T10:30:01Z', 'b2', 'global', 'IN_CALL', 'DISCONNECTING', 'end', 'm2', NULL, 4),
  ('t4', '2026-11-02T10:30:01Z', 'a2', 'global', 'IN_CALL', 'DISCONNECTING', 'partner_end', 'm2', NULL, 4),
  ('t5', '2026-11-02T10:40:15Z', 'a3', 'global', 'CONNECTING', 'DISCONNECTING', 'timeout', 'm3', NULL, 3),
  ('t6', '2026-11-02T10:40:15Z', 'b3', 'global', 'CONNECTING', 'DISCONNECTING', 'timeout', 'm3', NULL, 3),
  ('t7', '2026-11-02T11:20:01Z', 'a4', 'global', 'IN_CALL', 'DISCONNECTING', 'disconnect', 'm4', NULL, 4),
  ('t8', '2026-11-02T11:20:01Z', 'b4', 'global', 'IN_CALL', 'DISCONNECTING', 'partner_disconnect', 'm4', NULL, 4),
  ('t9', '2026-11-02T11:20:01Z', 'a4', 'global', 'DISCONNECTING', 'IDLE', 'disconnect', 'm4', NULL, 5),
  ('t10', '2026-11-03T09:00:00Z', 'a1', 'global', 'IN_CALL', 'DISCONNECTING', 'skip', 'm9', NULL, 9);

INSERT INTO errors (event_id, at, category, type, severity, code, operation, message, context, strategy, recovered, user_id) VALUES
  ('e1', '2026-11-02T10:01:00Z', 'transient', 'redis', 'high', 'ECONNRESET', 'enqueue', 'reset', NULL, 'reconnect', true, 'a1'),
  ('e2', '2026-11-02T10:02:00Z', 'transient', 'redis', 'high', 'ECONNRESET', 'enqueue', 'reset', NULL, 'reconnect', false, 'a1'),
  ('e3', '2026-11-02T10:59:59Z', 'persistent', 'validation', 'low', 'BAD_INPUT', 'chat', 'too long', '{"len": 9000}', 'reject', NULL, 'b1'),
  ('e4', '2026-11-02T11:00:00Z', 'transient', 'redis', 'high', 'ETIMEDOUT', 'skip', 'timeout', NULL, 'retry_backoff', true, NULL);

INSERT INTO breaker_events (event_id, at, dependency, state, instance) VALUES
  ('b1', '2026-11-02T23:50:00Z', 'redis', 'open', 'p1'),
  ('b2', '2026-11-02T23:59:00Z', 'redis', 'half_open', 'p1'),
  ('b3', '2026-11-03T00:05:00Z', 'redis', 'closed', 'p1'),
  ('b4', '2026-11-02T23:55:00Z', 'redis', 'open', 'p2'),
  ('b5', '2026-11-02T23:56:00Z', 'redis', 'closed', 'p2'),
  ('b6', '2026-11-03T01:00:00Z', 'postgres', 'open', NULL),
  ('b7', '2026-11-03T01:00:30Z', 'postgres', 'closed', NULL);

INSERT INTO recoveries (event_id, at, failure_type, strategy, outcome, duration_ms, context) VALUES
  ('r1', '2026-11-02T10:00:00Z', 'redis', 'reconnect', 'recovered', 100, NULL),
  ('r2', '2026-11-02T11:00:00Z', 'redis', 'reconnect', 'recovered', 300, NULL),
  ('r3', '2026-11-02T12:00:00Z', 'redis', 'reconnect', 'recovered', 200, NULL),
  ('r4', '2026-11-02T13:00:00Z', 'redis', 'reconnect', 'recovered', 400, NULL),
  ('r5', '2026-11-02T14:00:00Z', 'redis', 'reconnect', 'failed', 5000, NULL);

INSERT INTO dead_letters (id, at, source, kind, event_id, payload, error, attempts, status) VALUES
  ('outbox:global:1-0', '2026-11-02T10:00:00Z', 'audit_outbox', 'transition', 'x1', '{}', 'old error', 3, 'pending'),
  ('outbox:global:2-0', '2026-11-02T12:00:00Z', 'audit_outbox', 'transition', 'x2', '{}', 'latest error', 5, 'pending'),
  ('outbox:global:3-0', '2026-11-02T13:00:00Z', 'audit_outbox', NULL, NULL, '{}', 'not JSON', 1, 'pending');
`;

const at = (iso: string) => new Date(iso).toISOString();

/** Times as ISO strings, whichever driver answered (drizzle's node-postgres hands back text, PGlite Dates). */
function norm(rows: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  const time = (v: unknown) =>
    v instanceof Date
      ? v.toISOString()
      : typeof v === 'string' && /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?(\+00|Z)$/.test(v)
        ? new Date(v.replace(' ', 'T').replace('+00', 'Z')).toISOString()
        : v;
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, time(v)])));
}

describe.each(['postgres', 'pglite'] as const)('analyst views on %s', (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb(kind);
    await db.database.exec(SEED);
  }, 90_000); // PGlite creates and migrates a cluster in WASM: slow on a busy machine
  afterAll(async () => {
    await db?.[Symbol.asyncDispose]();
  });

  it('match_durations gives each match its connect, call and total time', async () => {
    const rows = norm(
      await db.rows("select match_id, hour, connect_ms, call_ms, total_ms from match_durations where match_id in ('m1', 'm3', 'm5') order by match_id"),
    );
    expect(rows).toEqual([
      { match_id: 'm1', hour: at('2026-11-02T10:00:00Z'), connect_ms: 2000, call_ms: 300_000, total_ms: 302_000 },
      { match_id: 'm3', hour: at('2026-11-02T10:00:00Z'), connect_ms: null, call_ms: null, total_ms: 15_000 },
      { match_id: 'm5', hour: at('2026-11-02T11:00:00Z'), connect_ms: null, call_ms: null, total_ms: null },
    ]);
  });

  it('wait_times gives p50/p95 of enqueue-to-matched per hour and pool, both sides of each match', async () => {
    const rows = norm(
      await db.rows('select hour, pool, waits, p50_ms, p95_ms, max_ms, round(avg_ms::numeric, 2)::float8 as avg_ms from wait_times order by hour, pool'),
    );
    expect(rows).toEqual([
      { hour: at('2026-11-02T10:00:00Z'), pool: 'global', waits: 6, p50_ms: 3500, p95_ms: 6500, max_ms: 7000, avg_ms: 3666.67 },
      { hour: at('2026-11-02T11:00:00Z'), pool: 'eu', waits: 2, p50_ms: 200, p95_ms: 290, max_ms: 300, avg_ms: 200 },
      { hour: at('2026-11-02T11:00:00Z'), pool: 'global', waits: 2, p50_ms: 1000, p95_ms: 1450, max_ms: 1500, avg_ms: 1000 },
    ]);
  });

  it('match_outcomes counts ended matches by reason per hour of ending, with rates', async () => {
    const rows = norm(await db.rows('select * from match_outcomes order by hour, pool'));
    expect(rows).toEqual([
      {
        hour: at('2026-11-02T10:00:00Z'),
        pool: 'global',
        ended: 3,
        connected: 2,
        skips: 1,
        ends: 1,
        disconnects: 0,
        timeouts: 1,
        other: 0,
        skip_rate: 1 / 3,
        end_rate: 1 / 3,
        disconnect_rate: 0,
        timeout_rate: 1 / 3,
      },
      {
        hour: at('2026-11-02T11:00:00Z'),
        pool: 'global',
        ended: 1,
        connected: 1,
        skips: 0,
        ends: 0,
        disconnects: 1,
        timeouts: 0,
        other: 0,
        skip_rate: 0,
        end_rate: 0,
        disconnect_rate: 1,
        timeout_rate: 0,
      },
    ]);
  });

  it('disconnect_reasons splits transitions into DISCONNECTING by reason and prior state per day', async () => {
    const rows = norm(
      await db.rows(
        "select day, pool, from_state, reason, transitions, users, share from disconnect_reasons where day = '2026-11-02T00:00:00Z' order by reason, from_state",
      ),
    );
    const row = (from_state: string, reason: string, transitions: number, users: number) => ({
      day: at('2026-11-02T00:00:00Z'),
      pool: 'global',
      from_state,
      reason,
      transitions,
      users,
      share: transitions / 8,
    });
    expect(rows).toEqual([
      row('IN_CALL', 'disconnect', 1, 1),
      row('IN_CALL', 'end', 1, 1),
      row('IN_CALL', 'partner_disconnect', 1, 1),
      row('IN_CALL', 'partner_end', 1, 1),
      row('IN_CALL', 'partner_skip', 1, 1),
      row('IN_CALL', 'skip', 1, 1),
      row('CONNECTING', 'timeout', 2, 2),
    ]);
    expect(norm(await db.rows("select transitions, share from disconnect_reasons where day = '2026-11-03T00:00:00Z'"))).toEqual([{ transitions: 1, share: 1 }]);
  });

  it('error_rates_hourly counts errors by category, type and severity per hour', async () => {
    const rows = norm(
      await db.rows('select hour, category, type, severity, errors, recovered, users, per_minute from error_rates_hourly order by hour, category'),
    );
    expect(rows).toEqual([
      { hour: at('2026-11-02T10:00:00Z'), category: 'persistent', type: 'validation', severity: 'low', errors: 1, recovered: 0, users: 1, per_minute: 1 / 60 },
      { hour: at('2026-11-02T10:00:00Z'), category: 'transient', type: 'redis', severity: 'high', errors: 2, recovered: 1, users: 1, per_minute: 2 / 60 },
      { hour: at('2026-11-02T11:00:00Z'), category: 'transient', type: 'redis', severity: 'high', errors: 1, recovered: 1, users: 0, per_minute: 1 / 60 },
    ]);
  });

  it('breaker_downtime sums open and half-open time per dependency, breaker and UTC day, cut at midnight', async () => {
    const rows = norm(await db.rows('select day, dependency, instance, open_ms, half_open_ms, opens from breaker_downtime order by day, dependency, instance'));
    expect(rows).toEqual([
      { day: at('2026-11-02T00:00:00Z'), dependency: 'redis', instance: 'p1', open_ms: 540_000, half_open_ms: 60_000, opens: 1 },
      { day: at('2026-11-02T00:00:00Z'), dependency: 'redis', instance: 'p2', open_ms: 60_000, half_open_ms: 0, opens: 1 },
      { day: at('2026-11-03T00:00:00Z'), dependency: 'postgres', instance: null, open_ms: 30_000, half_open_ms: 0, opens: 1 },
      { day: at('2026-11-03T00:00:00Z'), dependency: 'redis', instance: 'p1', open_ms: 0, half_open_ms: 300_000, opens: 0 },
    ]);
  });

  it('breaker_downtime counts a breaker that is still open up to now', async () => {
    await db.database.exec(
      `INSERT INTO breaker_events (event_id, at, dependency, state, instance) VALUES ('b-now', now() - interval '2 seconds', 'livekit', 'open', 'p9')`,
    );
    const [row] = await db.rows<{ open_ms: number }>("select sum(open_ms) as open_ms from breaker_downtime where dependency = 'livekit'");
    expect(row!.open_ms).toBeGreaterThanOrEqual(2000);
    expect(row!.open_ms).toBeLessThan(60_000);
    await db.database.exec(`DELETE FROM breaker_events WHERE event_id = 'b-now'`);
  });

  it('recovery_times gives attempts, outcomes and time-to-recover percentiles per failure type', async () => {
    expect(norm(await db.rows('select * from recovery_times'))).toEqual([
      {
        day: at('2026-11-02T00:00:00Z'),
        failure_type: 'redis',
        strategy: 'reconnect',
        attempts: 5,
        recovered: 4,
        failed: 1,
        p50_ms: 250,
        p95_ms: 385,
        max_ms: 400,
      },
    ]);
  });

  it('dead_letter_summary groups dead letters by day, source, kind and status with the latest error', async () => {
    expect(norm(await db.rows('select day, source, kind, status, letters, max_attempts, latest_error from dead_letter_summary order by kind'))).toEqual([
      {
        day: at('2026-11-02T00:00:00Z'),
        source: 'audit_outbox',
        kind: 'transition',
        status: 'pending',
        letters: 2,
        max_attempts: 5,
        latest_error: 'latest error',
      },
      { day: at('2026-11-02T00:00:00Z'), source: 'audit_outbox', kind: 'unreadable', status: 'pending', letters: 1, max_attempts: 1, latest_error: 'not JSON' },
    ]);
  });

  it("the documented query for today's p95 wait and skip rate answers from today's rows only", async () => {
    const doc = readFileSync(new URL('../../docs/analytics.md', import.meta.url), 'utf8');
    const query = /<!-- query:today -->\s*```sql\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(query).toBeTruthy();
    // Today (UTC): four matches, waits 100..800 ms; two of three ended matches were skips.
    await db.database.exec(`
      INSERT INTO matches (id, pool, user_a, user_b, mode, created_at, ended_at, end_reason, waited_a_ms, waited_b_ms)
      SELECT 'today' || i, 'global', 'x', 'y', 'direct', date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + i * interval '1 second',
             CASE WHEN i < 4 THEN date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + i * interval '2 seconds' END,
             CASE WHEN i < 3 THEN 'skip' WHEN i = 3 THEN 'end' END,
             i * 100, (i + 4) * 100
      FROM generate_series(1, 4) AS i`);
    const [row] = await db.rows<{ p95_wait_ms: number; skip_rate: number }>(query!);
    // Waits 100..800 in steps of 100: p95 = 700 + 0.65 * 100.
    expect(row!.p95_wait_ms).toBeCloseTo(765, 6);
    expect(row!.skip_rate).toBeCloseTo(2 / 3, 9);
    await db.database.exec(`DELETE FROM matches WHERE id LIKE 'today%'`);
  });
});
