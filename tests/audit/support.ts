/**
 * Audit test fixtures: a migrated database (shared Postgres, private Postgres or PGlite), an
 * outbox on a unique Redis prefix, records in the exact shape the Lua scripts write, and a drain
 * wired to them. Everything is torn down on dispose.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { sql } from 'drizzle-orm';
import { OutboxDrain, type DrainHooks, type DrainOptions } from '../../server/audit/drain';
import type { OutboxRecord } from '../../server/audit/records';
import { rowsOf } from '../../server/audit/writer';
import { migrate, openDatabase, type Database } from '../../server/infra/postgres';
import type { RedisClient } from '../../server/infra/redis';
import { Keys } from '../../server/state/keys';
import { createTestDatabase, createTestRedis } from '../support/databases';

export const silent = pino({ level: 'silent' });
export const POOL = 'global';

export interface TestDb extends AsyncDisposable {
  database: Database;
  /** node-postgres URL, or null for PGlite. */
  url: string | null;
  rows<T>(query: string): Promise<T[]>;
}

/** A fresh, migrated database: on the shared Postgres, at `url`, or embedded PGlite in a temp dir. */
export async function openTestDb(kind: 'postgres' | 'pglite' = 'postgres', url?: string): Promise<TestDb> {
  if (kind === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'rv-audit-pglite-'));
    const database = await openDatabase(undefined, dir);
    await migrate(database);
    return wrap(database, null, async () => rmSync(dir, { recursive: true, force: true }));
  }
  const created = url ? null : await createTestDatabase();
  const target = url ?? created!.url;
  const database = await openDatabase(target, '.');
  await migrate(database);
  return wrap(database, target, async () => void (await created?.drop()));
}

function wrap(database: Database, url: string | null, cleanup: () => Promise<void>): TestDb {
  return {
    database,
    url,
    rows: async <T>(query: string) => rowsOf<T>(await database.db.execute(sql.raw(query))),
    async [Symbol.asyncDispose]() {
      await database.close().catch(() => undefined);
      await cleanup();
    },
  };
}

export interface Outbox extends AsyncDisposable {
  redis: RedisClient;
  /** A new connection to the outbox's Redis. */
  connect(): Promise<RedisClient>;
  /** Settings that point a server's config at the same Redis (REDIS_CLUSTER_NODES on the cluster). */
  env: Record<string, string>;
  keys: Keys;
  url: string;
  key(pool?: string): string;
  add(records: OutboxRecord[], pool?: string): Promise<string[]>;
  pending(pool?: string): Promise<number>;
  length(pool?: string): Promise<number>;
}

/** An outbox under a unique prefix on the shared Redis, or on `url` (a private server). */
export async function openOutbox(url?: string): Promise<Outbox> {
  const kv = await createTestRedis(url);
  const connect = () => kv.connect('outbox-test');
  const redis = await connect(); // connected ('ready') before anyone looks at its status
  const keys = new Keys(kv.prefix);
  const key = (pool = POOL) => keys.outbox(pool);
  return {
    redis,
    connect,
    env: kv.env,
    keys,
    url: kv.url,
    key,
    async add(records, pool = POOL) {
      const pipe = redis.pipeline(); // one pool: one slot
      for (const r of records) pipe.xadd(key(pool), '*', 'e', JSON.stringify(r));
      const res = (await pipe.exec()) ?? [];
      return res.map(([err, id]) => {
        if (err) throw err;
        return id as string;
      });
    },
    async pending(pool = POOL) {
      const summary = (await redis.xpending(key(pool), 'audit').catch(() => [0])) as [number, ...unknown[]];
      return Number(summary[0]);
    },
    length: (pool = POOL) => redis.xlen(key(pool)),
    async [Symbol.asyncDispose]() {
      await kv.cleanup().catch(() => undefined);
      redis.disconnect();
    },
  };
}

export const fastDrain: DrainOptions = { batch: 100, blockMs: 20, claimIdleMs: 60_000, maxDeliveries: 3 };

export function drainFor(outbox: Outbox, db: TestDb, opts: Partial<DrainOptions> = {}, hooks: DrainHooks = {}, redis: RedisClient = outbox.redis): OutboxDrain {
  return new OutboxDrain(redis, db.database.db, outbox.keys, async () => [POOL], { ...fastDrain, ...opts }, silent, hooks);
}

/** A dedicated connection, as each drain has in the server (blocking reads must not share one). */
export function connection(outbox: Outbox): Promise<RedisClient> {
  return outbox.connect();
}

// ---- records, in the shape lib.lua's outbox() writes them ----------------------------------

let seq = 0;
const nextId = () => `${POOL}-test${process.pid}-${++seq}`;

export function transition(
  userId: string,
  from: string,
  to: string,
  at: number,
  extra: Partial<Extract<OutboxRecord, { kind: 'transition' }>> = {},
): OutboxRecord {
  return { kind: 'transition', eventId: nextId(), pool: POOL, at, userId, from, to, reason: null, matchId: null, actor: null, version: 1, ...extra };
}

/** A whole match in Lua's order: both enqueue, matched, created, joined, connected, the ender leaves, ended. */
export function matchLifecycle(
  mid: string,
  a: string,
  b: string,
  t0: number,
  o: { waitedA?: number; waitedB?: number; connectAfter?: number | null; endAfter?: number; reason?: string } = {},
): OutboxRecord[] {
  const waitedA = o.waitedA ?? 1000;
  const waitedB = o.waitedB ?? 2000;
  const reason = o.reason ?? 'skip';
  const connect = o.connectAfter === undefined ? 500 : o.connectAfter;
  const end = t0 + (o.endAfter ?? 60_000);
  const out: OutboxRecord[] = [
    transition(a, 'IDLE', 'WAITING', t0 - waitedA, { reason: 'enqueue', version: 1 }),
    transition(b, 'IDLE', 'WAITING', t0 - waitedB, { reason: 'enqueue', version: 1 }),
    transition(a, 'WAITING', 'CONNECTING', t0, { reason: 'matched', matchId: mid, version: 2 }),
    transition(b, 'WAITING', 'CONNECTING', t0, { reason: 'matched', matchId: mid, version: 2 }),
    { kind: 'match_created', eventId: nextId(), pool: POOL, at: t0, matchId: mid, userA: a, userB: b, mode: 'direct', waitedA, waitedB },
  ];
  const from = connect === null ? 'CONNECTING' : 'IN_CALL';
  if (connect !== null) {
    out.push(
      transition(a, 'CONNECTING', 'IN_CALL', t0 + connect, { reason: 'both_joined', matchId: mid, version: 3 }),
      transition(b, 'CONNECTING', 'IN_CALL', t0 + connect, { reason: 'both_joined', matchId: mid, version: 3 }),
      { kind: 'match_connected', eventId: nextId(), pool: POOL, at: t0 + connect, matchId: mid },
    );
  }
  out.push(
    transition(a, from, 'DISCONNECTING', end, { reason, matchId: mid, version: 4 }),
    transition(b, from, 'DISCONNECTING', end, { reason: `partner_${reason}`, matchId: mid, version: 4 }),
    transition(a, 'DISCONNECTING', reason === 'skip' ? 'WAITING' : 'IDLE', end, { reason: reason === 'skip' ? 'requeue' : reason, matchId: mid, version: 5 }),
    transition(b, 'DISCONNECTING', 'WAITING', end, { reason: 'requeue_front', matchId: mid, version: 5 }),
    { kind: 'match_ended', eventId: nextId(), pool: POOL, at: end, matchId: mid, reason, endedBy: a },
  );
  return out;
}

/** n transitions with distinct event ids. */
export function manyTransitions(n: number, at = Date.now()): OutboxRecord[] {
  return Array.from({ length: n }, (_, i) => transition(`u${i % 97}`, 'IDLE', 'WAITING', at + i, { reason: 'enqueue', version: i + 1 }));
}
