import { describe, expect, it, vi } from 'vitest';
import { PARTITIONED_TABLES, addMonths, monthOf, partitionName, planPartitions } from '../../server/audit/partitions';
import { AuditRetention } from '../../server/audit/retention';
import { loadConfig } from '../../server/config';
import { createMetrics } from '../../server/infra/metrics';
import { auditRetention } from '../../server/parts';
import type { Clock } from '../../server/shared/clock';
import { openTestDb, silent } from './support';

const DAY = 86_400_000;
const fixed = (iso: string): Clock => ({ now: () => Date.parse(iso) });

describe('the partition plan (pure)', () => {
  it('creates the current month and the months ahead that are missing', () => {
    const plan = planPartitions('errors', ['errors_default', 'errors_p202703'], Date.parse('2027-03-15T00:00:00Z'), { retentionDays: 90, monthsAhead: 2 });
    expect(plan.create).toEqual([
      { year: 2027, month: 4 },
      { year: 2027, month: 5 },
    ]);
  });

  it('drops a month only once all of it is older than the retention period', () => {
    const existing = ['errors_p202611', 'errors_p202612', 'errors_p202701', 'errors_default', 'errors_p2026xx'];
    // Cutoff 2026-12-15: November ended before it, December did not.
    expect(planPartitions('errors', existing, Date.parse('2027-03-15T00:00:00Z'), { retentionDays: 90, monthsAhead: 0 }).drop).toEqual(['errors_p202611']);
    // Cutoff exactly 2027-01-01: December goes too.
    expect(planPartitions('errors', existing, Date.parse('2027-01-01T00:00:00Z') + 90 * DAY, { retentionDays: 90, monthsAhead: 0 }).drop).toEqual([
      'errors_p202611',
      'errors_p202612',
    ]);
  });

  it('rolls over the year', () => {
    expect(addMonths({ year: 2026, month: 11 }, 3)).toEqual({ year: 2027, month: 2 });
    expect(partitionName('state_transitions', monthOf(Date.parse('2026-12-31T23:59:59.999Z')))).toBe('state_transitions_p202612');
  });
});

describe.each(['postgres', 'pglite'] as const)('the retention job on %s', (kind) => {
  it('creates coming months (moving rows out of the default partition), drops expired months and expired default rows', { timeout: 90_000 }, async () => {
    await using db = await openTestDb(kind);
    const now = monthOf(Date.now()); // the migration created this month and the next two
    const later = addMonths(now, 4); // the job runs four months from now
    const laterIso = (day: number) => new Date(Date.UTC(later.year, later.month - 1, day)).toISOString();
    const monthIso = (m: ReturnType<typeof monthOf>, day: number) => new Date(Date.UTC(m.year, m.month - 1, day)).toISOString();
    await db.database.exec(`INSERT INTO state_transitions (event_id, at, user_id, pool, from_state, to_state, version) VALUES
      ('in-new-month', '${laterIso(10)}', 'u', 'global', 'IDLE', 'WAITING', 1),
      ('in-old-month', '${monthIso(now, 5)}', 'u', 'global', 'IDLE', 'WAITING', 2),
      ('ancient', '2001-06-01T00:00:00Z', 'u', 'global', 'IDLE', 'WAITING', 3),
      ('kept-in-default', '${monthIso(addMonths(now, 3), 10)}', 'u', 'global', 'IDLE', 'WAITING', 4)`);
    const clock = fixed(laterIso(15));
    const job = new AuditRetention(db.database.db, { retentionDays: 90, monthsAhead: 2, intervalMs: 3_600_000 }, silent, clock);

    const report = await job.runOnce();
    expect(report.failures).toEqual([]);
    for (const t of PARTITIONED_TABLES) {
      for (let i = 0; i <= 2; i++) expect(report.created).toContain(partitionName(t, addMonths(later, i)));
      expect(report.dropped).toContain(partitionName(t, now)); // ended more than 90 days before the 15th of month +4
    }
    expect(report.moved).toBe(1);
    expect(report.expired).toBe(1);
    const placed = await db.rows<{ event_id: string; part: string }>(
      'SELECT event_id, tableoid::regclass::text AS part FROM state_transitions ORDER BY event_id',
    );
    expect(placed).toEqual([
      { event_id: 'in-new-month', part: partitionName('state_transitions', later) },
      { event_id: 'kept-in-default', part: 'state_transitions_default' },
    ]);

    // A second run has nothing left to do.
    expect(await job.runOnce()).toEqual({ created: [], dropped: [], moved: 0, expired: 0, actionsExpired: 0, failures: [] });
  });

  it('start() maintains the partitions at once and stop() waits for the run in progress', { timeout: 90_000 }, async () => {
    await using db = await openTestDb(kind);
    const later = addMonths(monthOf(Date.now()), 6);
    const job = new AuditRetention(
      db.database.db,
      { retentionDays: 3650, monthsAhead: 1, intervalMs: 3_600_000 },
      silent,
      fixed(new Date(Date.UTC(later.year, later.month - 1, 2)).toISOString()),
    );
    job.start();
    try {
      await vi.waitFor(async () =>
        expect(await db.rows(`SELECT 1 FROM pg_class WHERE relname = '${partitionName('errors', addMonths(later, 1))}'`)).toHaveLength(1),
      );
    } finally {
      await job.stop();
    }
  });
});

describe('the retention job with several processes', () => {
  it('two jobs running at once do not trip over each other', async () => {
    await using db = await openTestDb('postgres');
    const later = addMonths(monthOf(Date.now()), 5);
    const clock = fixed(new Date(Date.UTC(later.year, later.month - 1, 3)).toISOString());
    const a = new AuditRetention(db.database.db, { retentionDays: 90, monthsAhead: 2, intervalMs: 3_600_000 }, silent, clock);
    const b = new AuditRetention(db.database.db, { retentionDays: 90, monthsAhead: 2, intervalMs: 3_600_000 }, silent, clock);
    const [ra, rb] = await Promise.all([a.runOnce(), b.runOnce()]);
    expect([...ra.failures, ...rb.failures]).toEqual([]);
    const created = [...ra.created, ...rb.created];
    expect(new Set(created).size).toBe(created.length);
    for (const t of PARTITIONED_TABLES) for (let i = 0; i <= 2; i++) expect(created).toContain(partitionName(t, addMonths(later, i)));
  });
});

describe('the retention of chat transcripts (CHAT_RETENTION_DAYS)', () => {
  const chatRow = (id: string, at: Date) => `('${id}', '${at.toISOString()}', 'global', 'm1', 'a', 'b', 'c-${id}', 'words', '{}')`;

  it('each message goes once older than CHAT_RETENTION_DAYS, while other audit rows of the same age stay', { timeout: 90_000 }, async () => {
    await using db = await openTestDb('postgres');
    const now = Date.now();
    const ago = (days: number) => new Date(now - days * DAY);
    await db.database.exec(`INSERT INTO chat_messages (event_id, at, pool, match_id, from_user, to_user, client_message_id, text, masked) VALUES
      ${[chatRow('2d', ago(2)), chatRow('10d', ago(10)), chatRow('40d', ago(40))].join(', ')}`);
    await db.database.exec(`INSERT INTO state_transitions (event_id, at, user_id, pool, from_state, to_state, version)
      VALUES ('40d', '${ago(40).toISOString()}', 'u', 'global', 'IDLE', 'WAITING', 1)`);
    const job = (env: Record<string, string>) => auditRetention(loadConfig(env), db.database, silent, fixed(new Date(now).toISOString()), createMetrics());
    const chats = async () => (await db.rows<{ event_id: string }>('SELECT event_id FROM chat_messages ORDER BY at DESC')).map((r) => r.event_id);

    expect((await job({}).runOnce()).failures).toEqual([]); // the default, 30 days
    expect(await chats()).toEqual(['2d', '10d']);
    await job({ CHAT_RETENTION_DAYS: '5' }).runOnce();
    expect(await chats()).toEqual(['2d']);
    expect(await db.rows('SELECT event_id FROM state_transitions')).toEqual([{ event_id: '40d' }]);
  });

  it('the analyst role may not read transcripts, nor a month partition the job creates later', { timeout: 90_000 }, async () => {
    await using db = await openTestDb('postgres');
    const later = addMonths(monthOf(Date.now()), 4);
    const job = new AuditRetention(
      db.database.db,
      { retentionDays: 3650, privateRetentionDays: 30, monthsAhead: 0, intervalMs: 3_600_000 },
      silent,
      fixed(new Date(Date.UTC(later.year, later.month - 1, 2)).toISOString()),
    );
    expect((await job.runOnce()).created).toContain(partitionName('chat_messages', later));
    const readable = async (rel: string) => (await db.rows<{ ok: boolean }>(`SELECT has_table_privilege('analyst', '${rel}', 'SELECT') AS ok`))[0]!.ok;
    expect(await readable('chat_messages')).toBe(false);
    expect(await readable('chat_messages_default')).toBe(false);
    expect(await readable(partitionName('chat_messages', later))).toBe(false);
    expect(await readable(partitionName('errors', later))).toBe(true);
  });
});
