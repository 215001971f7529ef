/**
 * applyRecords: writes one batch of outbox records to Postgres in one transaction, idempotently.
 *
 * Each table gets one statement for the whole batch: the rows travel as a single JSON parameter
 * expanded by json_to_recordset (a few parameters instead of thousands, no per-row round trip,
 * same SQL on node-postgres and PGlite). Event rows use ON CONFLICT DO NOTHING on their
 * (event_id, at) key and match updates are guarded by IS NULL, so applying a batch twice changes
 * nothing: the drain may redeliver after a crash between commit and acknowledge.
 *
 * Match updates whose match row is not in Postgres yet (with two consumers, the batch holding
 * match_created may commit after the one holding match_ended) are not applied: their record
 * indexes come back as `deferred` and the drain leaves them pending for a later retry, rather
 * than losing the end of a match.
 */
import { getTableColumns, getTableName, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../infra/postgres';
import { matches } from '../match/schema';
import type { OutboxRecord } from './records';
import { toRows, type MatchUpdate, type Row } from './rows';
import { breakerEvents, chatMessages, checkpoints, errors, recoveries, stateTransitions, webhookEvents } from './schema';

export interface ApplyResult {
  deferred: Array<{ index: number; reason: string }>;
}

type Executor = Pick<Db, 'execute'>;

export async function applyRecords(db: Db, records: readonly OutboxRecord[]): Promise<ApplyResult> {
  const rows = toRows(records);
  return db.transaction(async (tx) => {
    await insertRows(tx, stateTransitions, rows.transitions);
    await insertRows(tx, errors, rows.errors);
    await insertRows(tx, recoveries, rows.recoveries);
    await insertRows(tx, breakerEvents, rows.breakers);
    await insertRows(tx, checkpoints, rows.checkpoints);
    await insertRows(tx, webhookEvents, rows.webhooks);
    await insertRows(tx, chatMessages, rows.chats);
    await insertRows(tx, matches, rows.matchCreates);

    const deferred: ApplyResult['deferred'] = [];
    const missing = await missingMatches(tx, [...rows.connected.keys(), ...rows.ended.keys(), ...rows.rooms.keys()]);
    const ready = (updates: Map<string, MatchUpdate>): Row[] => {
      const out: Row[] = [];
      for (const [id, u] of updates) {
        if (missing.has(id)) for (const index of u.indexes) deferred.push({ index, reason: `match ${id} is not in Postgres yet` });
        else out.push(u.row);
      }
      return out;
    };
    const connected = ready(rows.connected);
    const ended = ready(rows.ended);
    const rooms = ready(rows.rooms);
    if (connected.length)
      await tx.execute(sql`UPDATE matches AS m SET connected_at = x.at
        FROM json_to_recordset(${JSON.stringify(connected)}::json) AS x(id text, at timestamptz)
        WHERE m.id = x.id AND m.connected_at IS NULL`);
    if (ended.length)
      await tx.execute(sql`UPDATE matches AS m SET ended_at = x.at, end_reason = x.reason, ended_by = x.ended_by
        FROM json_to_recordset(${JSON.stringify(ended)}::json) AS x(id text, at timestamptz, reason text, ended_by text)
        WHERE m.id = x.id AND m.ended_at IS NULL`);
    if (rooms.length)
      await tx.execute(sql`UPDATE matches AS m SET room = x.room, mode = x.mode
        FROM json_to_recordset(${JSON.stringify(rooms)}::json) AS x(id text, room text, mode text)
        WHERE m.id = x.id`);
    return { deferred };
  });
}

/** The table's columns that the rows carry (rows.ts keys them by SQL name), typed as the schema declares them. */
async function insertRows(tx: Executor, table: PgTable, rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.values(getTableColumns(table)).filter((c) => c.name in rows[0]!);
  const names = columns.map((c) => `"${c.name}"`).join(', ');
  const defs = columns.map((c) => `"${c.name}" ${c.getSQLType()}`).join(', ');
  await tx.execute(
    sql`INSERT INTO ${sql.raw(`"${getTableName(table)}" (${names})`)} SELECT ${sql.raw(names)}
      FROM json_to_recordset(${JSON.stringify(rows)}::json) AS x(${sql.raw(defs)})
      ON CONFLICT DO NOTHING`,
  );
}

async function missingMatches(tx: Executor, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const unique = [...new Set(ids)].map((id) => ({ id }));
  const r = await tx.execute(sql`SELECT x.id FROM json_to_recordset(${JSON.stringify(unique)}::json) AS x(id text)
    WHERE NOT EXISTS (SELECT 1 FROM matches m WHERE m.id = x.id)`);
  return new Set(rowsOf<{ id: string }>(r).map((row) => row.id));
}

/** node-postgres and PGlite both answer `execute` with `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows?: T[] }).rows ?? [];
}
