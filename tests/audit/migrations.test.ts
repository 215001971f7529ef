import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { PARTITIONED_TABLES, addMonths, monthOf, partitionName } from '../../server/audit/partitions';
import { rowsOf } from '../../server/audit/writer';
import { MIGRATIONS_DIR, appliedMigrations, expectedMigrations, migrate, openDatabase, type Database } from '../../server/infra/postgres';
import { startPostgresServer } from '../support/postgres-server';
import { openTestDb } from './support';

const VIEWS = [
  'match_waits',
  'match_durations',
  'wait_times',
  'match_outcomes',
  'disconnect_reasons',
  'error_rates_hourly',
  'breaker_downtime',
  'recovery_times',
  'dead_letter_summary',
  'moderation_reports_daily',
  'moderation_sanctions_daily',
  'moderation_decision_times',
  'moderation_appeals',
];

async function rows<T>(database: Database, query: string): Promise<T[]> {
  return rowsOf<T>(await database.db.execute(sql.raw(query)));
}

/** Relations, columns and indexes of the public schema: what a no-op migrate must leave alone. */
async function shape(database: Database): Promise<string[]> {
  const r = await rows<{ d: string }>(
    database,
    `SELECT c.relkind::text || ' ' || c.relname::text || coalesce(' ' || string_agg(a.attname::text || ':' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY a.attnum), '') AS d
     FROM pg_class c LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE c.relnamespace = 'public'::regnamespace GROUP BY c.relkind, c.relname ORDER BY c.relname`,
  );
  return r.map((x) => x.d);
}

describe.each(['postgres', 'pglite'] as const)('migrations on %s', (kind) => {
  it('apply cleanly on a fresh database, and running migrate again changes nothing', { timeout: 90_000 }, async () => {
    await using db = await openTestDb(kind);
    expect(await appliedMigrations(db.database.db)).toBe(expectedMigrations());
    const before = await shape(db.database);
    await migrate(db.database);
    expect(await appliedMigrations(db.database.db)).toBe(expectedMigrations());
    expect(await shape(db.database)).toEqual(before);
  });

  it('event tables are partitioned by month, with a default partition and the coming months, and refuse updates', { timeout: 90_000 }, async () => {
    await using db = await openTestDb(kind);
    const parents = await rows<{ relname: string }>(
      db.database,
      "SELECT relname FROM pg_class WHERE relkind = 'p' AND relnamespace = 'public'::regnamespace ORDER BY relname",
    );
    expect(parents.map((p) => p.relname)).toEqual([...PARTITIONED_TABLES].sort());
    const children = new Set(
      (await rows<{ relname: string }>(db.database, 'SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid')).map((c) => c.relname),
    );
    const now = monthOf(Date.now());
    for (const t of PARTITIONED_TABLES) {
      expect(children.has(`${t}_default`)).toBe(true);
      for (let i = 0; i <= 2; i++) expect(children.has(partitionName(t, addMonths(now, i)))).toBe(true);
    }
    // Rows are routed by `at`, and the views read through the parents.
    await db.database.exec(
      `INSERT INTO errors (event_id, at, category, type, severity, message) VALUES ('x', now(), 'transient', 'redis', 'low', 'm'), ('y', '2001-01-01T00:00:00Z', 'transient', 'redis', 'low', 'm')`,
    );
    const placed = await rows<{ event_id: string; part: string }>(
      db.database,
      'SELECT event_id, tableoid::regclass::text AS part FROM errors ORDER BY event_id',
    );
    expect(placed).toEqual([
      { event_id: 'x', part: partitionName('errors', now) },
      { event_id: 'y', part: 'errors_default' },
    ]);
    // Append-only: an event row cannot be changed, only removed (by retention).
    await expect(db.database.exec("UPDATE errors SET message = 'rewritten' WHERE event_id = 'x'")).rejects.toThrow(/append-only/);
    await db.database.exec("DELETE FROM errors WHERE event_id = 'y'");
    const views = await rows<{ viewname: string }>(db.database, "SELECT viewname FROM pg_views WHERE schemaname = 'public' ORDER BY viewname");
    expect(views.map((v) => v.viewname)).toEqual([...VIEWS].sort());
  });
});

describe('migrations on Postgres: roles and upgrades', () => {
  it('the analyst role is created and may read every view and table, and nothing else', async () => {
    await using db = await openTestDb('postgres');
    for (const rel of [...VIEWS, 'state_transitions', 'matches', 'dead_letters']) {
      const [r] = await rows<{ read: boolean; write: boolean }>(
        db.database,
        `SELECT has_table_privilege('analyst', '${rel}', 'SELECT') AS read, has_table_privilege('analyst', '${rel}', 'INSERT') AS write`,
      );
      expect({ rel, ...r }).toEqual({ rel, read: true, write: false });
    }
    // People's words, pictures, device ids and address keys: moderators only (the views above give analysts the counts).
    // Operators' password and session hashes, and what they did to whom: closed too.
    for (const rel of ['chat_messages', 'reports', 'moderation_actions', 'appeals', 'operators', 'operator_sessions', 'operator_actions']) {
      const [r] = await rows<{ read: boolean }>(db.database, `SELECT has_table_privilege('analyst', '${rel}', 'SELECT') AS read`);
      expect({ rel, ...r }).toEqual({ rel, read: false });
    }
  });

  it('a migrating user that may not create roles still gets every table and view; only the role is skipped', { timeout: 60_000 }, async () => {
    await using pg = await startPostgresServer();
    const admin = await openDatabase(pg.url, '.');
    await admin.exec('CREATE ROLE migrator LOGIN NOCREATEROLE');
    await admin.exec('CREATE DATABASE app OWNER migrator');
    await admin.close();
    const url = new URL(pg.url);
    url.username = 'migrator';
    url.pathname = '/app';
    const app = await openDatabase(url.toString(), '.');
    try {
      await migrate(app);
      expect(await appliedMigrations(app.db)).toBe(expectedMigrations());
      expect(await rows(app, "SELECT 1 FROM pg_roles WHERE rolname = 'analyst'")).toEqual([]);
      expect(await rows(app, 'SELECT * FROM wait_times')).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('upgrading a database that already holds audit rows keeps them, in the new partitions', async () => {
    await using db = await openTestDb('postgres');
    // A second, empty database migrated only up to 0001 (before partitioning), then upgraded.
    const dir = mkdtempSync(join(tmpdir(), 'rv-audit-migrations-'));
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      const journal = JSON.parse(readFileSync(join(dir, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };
      journal.entries = journal.entries.filter((e) => e.tag <= '0001');
      writeFileSync(join(dir, 'meta/_journal.json'), JSON.stringify(journal));
      await db.database.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public; DROP SCHEMA drizzle CASCADE');
      const { migrate: run } = await import('drizzle-orm/node-postgres/migrator');
      await run(db.database.db as unknown as Parameters<typeof run>[0], { migrationsFolder: dir });
      await db.database.exec(`INSERT INTO state_transitions (event_id, at, user_id, pool, from_state, to_state, version)
        VALUES ('old-1', now(), 'u', 'global', 'IDLE', 'WAITING', 1), ('old-2', '2020-01-01T00:00:00Z', 'u', 'global', 'WAITING', 'IDLE', 2)`);
      await migrate(db.database);
      const placed = await rows<{ event_id: string; part: string }>(
        db.database,
        'SELECT event_id, tableoid::regclass::text AS part FROM state_transitions ORDER BY event_id',
      );
      expect(placed).toEqual([
        { event_id: 'old-1', part: partitionName('state_transitions', monthOf(Date.now())) },
        { event_id: 'old-2', part: 'state_transitions_default' },
      ]);
      expect(await appliedMigrations(db.database.db)).toBe(expectedMigrations());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
