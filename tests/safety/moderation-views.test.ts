/**
 * The moderation views analysts read (docs/analytics.md, "Moderation"): a seeded day (2026-11-02,
 * UTC) with known answers, on Postgres and on PGlite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../audit/support';

const SEED = `
INSERT INTO matches (id, pool, user_a, user_b, mode, created_at) VALUES
  ('m1', 'global', 'u1', 'u2', 'direct', '2026-11-02T10:00:00Z'),
  ('m2', 'global', 'u1', 'u3', 'direct', '2026-11-02T11:00:00Z'),
  ('m3', 'global', 'u4', 'u5', 'direct', '2026-11-02T12:00:00Z'),
  ('m4', 'global', 'u6', 'u7', 'direct', '2026-11-02T13:00:00Z');
INSERT INTO reports (at, reporter_id, reported_id, match_id, pool, reason, transcript, status, decided_at, decided_by) VALUES
  ('2026-11-02T10:05:00Z', 'u2', 'u1', 'm1', 'global', 'harassment', '[]', 'actioned', '2026-11-02T10:15:00Z', 'admin:ann'),
  ('2026-11-02T11:05:00Z', 'u3', 'u1', 'm2', 'global', 'harassment', '[]', 'dismissed', '2026-11-02T11:35:00Z', 'admin:ann'),
  ('2026-11-02T12:05:00Z', 'u5', 'u4', 'm3', 'global', 'spam', '[]', 'open', NULL, NULL);
INSERT INTO moderation_actions (id, at, action, user_id, ends_at, reason, actor) VALUES
  ('00000000-0000-4000-8000-000000000001', '2026-11-02T10:15:00Z', 'low_trust', 'u1', '2026-11-09T10:15:00Z', 'reported by 2 people', 'auto'),
  ('00000000-0000-4000-8000-000000000002', '2026-11-02T10:16:00Z', 'ban', 'u1', '2026-11-03T10:16:00Z', 'reported by 3 people', 'auto'),
  ('00000000-0000-4000-8000-000000000003', '2026-11-02T14:00:00Z', 'ban', 'u6', NULL, 'spam', 'admin:ann');
INSERT INTO appeals (at, receipt_id, user_id, text, status, decided_at) VALUES
  ('2026-11-02T11:00:00Z', '00000000-0000-4000-8000-000000000002', 'u1', 'please look again', 'upheld', '2026-11-02T13:00:00Z'),
  ('2026-11-02T15:00:00Z', '00000000-0000-4000-8000-000000000003', 'u6', 'that was not me', 'open', NULL);
`;

describe.each(['postgres', 'pglite'] as const)('moderation views on %s', (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb(kind);
    await db.database.exec(SEED);
  }, 90_000);
  afterAll(async () => {
    await db?.[Symbol.asyncDispose]();
  });

  it('moderation_reports_daily: reports per 1,000 matches', async () => {
    expect(await db.rows('SELECT matches, reports, reported_users, reports_per_1000_matches FROM moderation_reports_daily')).toEqual([
      { matches: 4, reports: 3, reported_users: 2, reports_per_1000_matches: 750 },
    ]);
  });

  it('moderation_sanctions_daily: the share of active users sanctioned, and the kinds of action', async () => {
    expect(
      await db.rows(
        'SELECT active_users, sanctioned_users, share_sanctioned, low_trust, bans_auto, bans_by_operators, permanent_bans, lifts FROM moderation_sanctions_daily',
      ),
    ).toEqual([
      { active_users: 7, sanctioned_users: 2, share_sanctioned: 2 / 7, low_trust: 1, bans_auto: 1, bans_by_operators: 1, permanent_bans: 1, lifts: 0 },
    ]);
  });

  it('moderation_decision_times: decided reports and the time from report to decision', async () => {
    expect(await db.rows('SELECT reason, decided, actioned, dismissed, p50_ms, p95_ms FROM moderation_decision_times')).toEqual([
      { reason: 'harassment', decided: 2, actioned: 1, dismissed: 1, p50_ms: 20 * 60_000, p95_ms: 29 * 60_000 },
    ]);
  });

  it('moderation_appeals: appeals and their outcomes', async () => {
    expect(await db.rows('SELECT appeals, open, upheld, denied, upheld_rate, p50_decision_ms FROM moderation_appeals')).toEqual([
      { appeals: 2, open: 1, upheld: 1, denied: 0, upheld_rate: 1, p50_decision_ms: 2 * 3_600_000 },
    ]);
  });
});
