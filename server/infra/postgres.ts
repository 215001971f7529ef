/**
 * Postgres: node-postgres against DATABASE_URL, or embedded PGlite under DATA_DIR/pg when it is
 * unset. Both get the same drizzle schema and the same committed migrations, applied at start.
 */
import { readFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';

export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../migrations');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Db = PgDatabase<PgQueryResultHKT, any>;

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Run raw SQL (used by maintenance jobs and the analyst role setup). */
  exec(statement: string): Promise<void>;
  /** Run `fn` holding a cluster-wide lock (several processes starting at once migrate one at a time). */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openDatabase(url: string | undefined, dataDir: string, poolSize = 10): Promise<Database> {
  if (url) {
    const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 3000, idleTimeoutMillis: 30_000 });
    pool.on('error', () => {
      /* a dropped idle client: the next query reconnects */
    });
    // pg-pool listens for errors only on idle clients: a checked-out one (a transaction between two
    // statements) that loses its connection (Postgres restarting) would emit an unhandled 'error'
    // and crash the process. The statement in flight fails anyway and the pool drops the client.
    pool.on('connect', (client) => client.on('error', () => {}));
    const { drizzle } = await import('drizzle-orm/node-postgres');
    const db = drizzle(pool, { casing: 'snake_case' });
    return {
      db,
      kind: 'postgres',
      exec: async (s) => void (await pool.query(s)),
      exclusive: async (fn) => {
        const c = await pool.connect();
        try {
          await c.query('select pg_advisory_lock(hashtext($1))', ['rendezvous:migrate']);
          return await fn();
        } finally {
          await c.query('select pg_advisory_unlock(hashtext($1))', ['rendezvous:migrate']).catch(() => {});
          c.release();
        }
      },
      close: () => pool.end(),
    };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const dir = resolve(join(dataDir, 'pg'));
  mkdirSync(dir, { recursive: true });
  const client = await PGlite.create(dir);
  const { drizzle } = await import('drizzle-orm/pglite');
  const db = drizzle(client, { casing: 'snake_case' });
  return {
    db,
    kind: 'pglite',
    exec: async (s) => void (await client.exec(s)),
    exclusive: (fn) => fn(), // PGlite belongs to this one process
    close: () => client.close(),
  };
}

export async function migrate(database: Database): Promise<void> {
  await database.exclusive(() => runMigrations(database));
}

async function runMigrations(database: Database): Promise<void> {
  if (database.kind === 'postgres') {
    const { migrate: run } = await import('drizzle-orm/node-postgres/migrator');
    await run(database.db as unknown as Parameters<typeof run>[0], { migrationsFolder: MIGRATIONS_DIR });
  } else {
    const { migrate: run } = await import('drizzle-orm/pglite/migrator');
    await run(database.db as unknown as Parameters<typeof run>[0], { migrationsFolder: MIGRATIONS_DIR });
  }
}

/** How many migrations the code ships, from drizzle's journal. */
export function expectedMigrations(): number {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}

/** Applied migrations in the database (drizzle's own bookkeeping table). */
export async function appliedMigrations(db: Db): Promise<number> {
  const r = await db.execute<{ n: number }>(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
  const rows = (Array.isArray(r) ? r : (r as { rows: Array<{ n: number }> }).rows) as Array<{ n: number }>;
  return Number(rows[0]?.n ?? 0);
}
