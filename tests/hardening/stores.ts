/**
 * A picture of what the app keeps, to show that calls wrote nothing: every Redis key under the
 * app's prefix with its type and contents (rate-limit counters aside: they count attempts), and the row count of every audit and match table in
 * Postgres. Values that move on their own (presence scores and heartbeat times, which an open
 * socket refreshes) are left out; membership, fields, states and versions are kept.
 */
import { getTableName, is } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import { Redis } from 'ioredis';
import pg from 'pg';
import { expect, vi } from 'vitest';
import * as auditSchema from '../../server/audit/schema';
import * as matchSchema from '../../server/match/schema';
import * as safetySchema from '../../server/safety/schema';
import { rateKeyPrefix } from '../../server/safety/rate-limits';
import type { TestApp } from '../support/app';

/** Every table of the audit and match schemas (a new table is watched without a change here). */
export const WATCHED_TABLES: string[] = [...Object.values(auditSchema), ...Object.values(matchSchema), ...Object.values(safetySchema)]
  .flatMap((v) => (is(v, PgTable) ? [getTableName(v)] : []))
  .sort();

/** Hash fields that change with time alone (a heartbeat), not with a transition. */
const MOVING_FIELDS = new Set(['lastHeartbeat', 'lastSeen']);

export interface StoresPicture {
  redis: Record<string, string>;
  postgres: Record<string, number>;
}

export class StoresWatch implements AsyncDisposable {
  private constructor(
    private readonly app: TestApp,
    private readonly redis: Redis,
    private readonly db: pg.Client,
  ) {}

  static async open(app: TestApp): Promise<StoresWatch> {
    const redis = new Redis(app.redisUrl, { lazyConnect: true });
    redis.on('error', () => {});
    await redis.connect();
    const db = new pg.Client({ connectionString: app.databaseUrl });
    db.on('error', () => {});
    await db.connect();
    return new StoresWatch(app, redis, db);
  }

  /** The app's keys (SCAN, never KEYS: fine for a test's own prefix). */
  async keys(): Promise<string[]> {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${this.app.prefix}*`, 'COUNT', 1000);
      cursor = next;
      // `<prefix>` then a separator: another prefix that merely starts the same way is not ours.
      // Left out: rate-limit counters (they count every attempt, refused or not) and who each new
      // session is (session.create, public, records it for bans): both bounded and expiring.
      const ours = (k: string) => !/[A-Za-z0-9_-]/.test(k.charAt(this.app.prefix.length));
      // So are the console's minute buckets and recent waits (server/ops/funnel.ts): each process's
      // overview job writes what it observes (people online) there on its own, call or no call.
      const accounting = (k: string) =>
        k.startsWith(rateKeyPrefix(this.app.prefix)) ||
        k.startsWith(`${this.app.prefix}:ident:`) ||
        k.startsWith(`${this.app.prefix}:{ops}:m:`) ||
        k === `${this.app.prefix}:{ops}:waits`;
      out.push(...batch.filter((k) => ours(k) && !accounting(k)));
    } while (cursor !== '0');
    return out.sort();
  }

  /**
   * Waits (up to 10 s) until every outbox stream is drained: whatever was recorded is in Postgres
   * by then. An outbox that does not drain is left for picture() to show.
   */
  async settle(): Promise<void> {
    const backlog = async () => {
      const streams = (await this.keys()).filter((k) => k.endsWith(':outbox'));
      return (await Promise.all(streams.map((k) => this.redis.xlen(k)))).reduce((a, b) => a + b, 0);
    };
    await vi.waitFor(async () => expect(await backlog()).toBe(0), { timeout: 10_000, interval: 20 }).catch(() => {});
  }

  async picture(): Promise<StoresPicture> {
    const redis: Record<string, string> = {};
    for (const key of await this.keys()) redis[key.slice(this.app.prefix.length)] = await this.describe(key);
    const postgres: Record<string, number> = {};
    for (const table of WATCHED_TABLES) {
      const { rows } = await this.db.query<{ n: string }>(`select count(*) as n from "${table}"`);
      postgres[table] = Number(rows[0]!.n);
    }
    return { redis, postgres };
  }

  private async describe(key: string): Promise<string> {
    const type = await this.redis.type(key);
    switch (type) {
      case 'hash': {
        const fields = Object.entries(await this.redis.hgetall(key)).map(([k, v]) => (MOVING_FIELDS.has(k) ? [k, '*'] : [k, v]));
        return `hash ${JSON.stringify(fields.sort())}`;
      }
      case 'zset':
        return `zset ${JSON.stringify((await this.redis.zrange(key, '0', '-1')).sort())}`;
      case 'set':
        return `set ${JSON.stringify((await this.redis.smembers(key)).sort())}`;
      case 'list':
        return `list of ${await this.redis.llen(key)}`;
      case 'string':
        return `string ${await this.redis.get(key)}`;
      // A user's event history, or the outbox (empty after settle(): what it held is counted in Postgres).
      case 'stream':
        return `stream of ${await this.redis.xlen(key)}`;
      default:
        return type;
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.redis.disconnect();
    await this.db.end().catch(() => {});
  }
}
