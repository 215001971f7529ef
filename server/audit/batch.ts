/**
 * applyBatch: one batch of outbox entries written to Postgres, and what becomes of each entry
 * (drain.ts holds the protocol). Committed, or:
 *  - unreadable (records.ts, PoisonRecordError), or refused by Postgres alone for its values
 *    (db-errors.ts, isRowRejection): a dead letter at once;
 *  - any other failure: left pending for a later delivery, and a dead letter once its delivery
 *    count (the group's pending list) reaches maxDeliveries;
 *  - its match not in Postgres yet: deferred, kept by this consumer to apply again soon, unless
 *    another consumer has taken it over meanwhile.
 * The caller stores the letters and acknowledges what settled.
 */
import type { RedisClient } from '../infra/redis';
import type { Logger } from '../infra/logger';
import type { Db } from '../infra/postgres';
import { isRowRejection } from './db-errors';
import type { DbGuard } from './db-guard';
import { letterForEntry, letterForRaw, type Letter } from './dead-letters';
import { applyIsolating } from './isolate';
import { deliveryCounts, type RawEntry } from './outbox-stream';
import { isPoisonRecordError, parseEntry, type OutboxEntry, type OutboxRecord } from './records';
import { applyRecords } from './writer';

export interface BatchContext {
  redis: RedisClient;
  db: Db;
  guard: DbGuard;
  log: Logger;
  consumer: string;
  maxDeliveries: number;
  /** DrainHooks.afterCommit. */
  afterCommit?(pool: string, entries: OutboxEntry[]): void | Promise<void>;
}

export interface Settled {
  committed: OutboxEntry[];
  letters: Letter[];
  /** Stream ids of the deferred records this consumer still holds. */
  deferred: Set<string>;
}

export async function applyBatch(c: BatchContext, pool: string, key: string, raw: RawEntry[]): Promise<Settled> {
  const valid: OutboxEntry[] = [];
  const letters: Letter[] = [];
  for (const [id, fields] of raw) {
    try {
      valid.push(parseEntry(pool, id, fields));
    } catch (e) {
      if (!isPoisonRecordError(e)) throw e;
      letters.push(letterForRaw(pool, id, fields, e.message, e.kind, e.eventId));
    }
  }
  // Records Postgres refused alone in their transaction for their values: retrying cannot help.
  const rejected = new Set<OutboxRecord>();
  const apply = async (recs: OutboxRecord[]) => {
    try {
      return await c.guard(() => applyRecords(c.db, recs));
    } catch (e) {
      if (recs.length === 1 && isRowRejection(e)) rejected.add(recs[0]!);
      throw e;
    }
  };
  const { committed, deferred, failed } = await applyIsolating(apply, valid);
  if (committed.length) await c.afterCommit?.(pool, committed);
  const retry = [...failed, ...deferred];
  const counts = await deliveryCounts(
    c.redis,
    key,
    retry.map((r) => r.entry.streamId),
  );
  const again = new Set<string>();
  for (const r of retry) {
    const pending = counts.get(r.entry.streamId);
    const n = pending?.count ?? 0;
    if (deferred.includes(r) && pending?.consumer !== c.consumer) continue; // acknowledged, or another consumer's now
    if (rejected.has(r.entry.rec) || n >= c.maxDeliveries) letters.push(letterForEntry(r.entry, r.error, n));
    else if (deferred.includes(r)) again.add(r.entry.streamId);
    else c.log.warn({ pool, id: r.entry.streamId, deliveries: n, error: r.error }, 'audit record not written; will retry');
  }
  return { committed, letters, deferred: again };
}
