/**
 * applyIsolating: apply a batch; if Postgres rejects it for a reason in the rows (not a transient
 * failure), split it in halves and apply each half, down to single records, so k bad records in
 * a batch of n cost about 2k·log2(n) transactions instead of n, and every good record commits.
 * Halves are applied in order, so match records still reach Postgres in stream order.
 * Transient failures are rethrown untouched: the drain retries the whole batch later.
 */
import { describeDbError, isTransientDbError } from './db-errors';
import type { OutboxEntry, OutboxRecord } from './records';
import type { ApplyResult } from './writer';

export interface Rejected {
  entry: OutboxEntry;
  error: string;
}

export interface Isolated {
  committed: OutboxEntry[];
  /** Named a match not in Postgres yet: retry later. */
  deferred: Rejected[];
  /** Rejected by Postgres on their own. */
  failed: Rejected[];
}

export type Apply = (records: OutboxRecord[]) => Promise<ApplyResult>;

export async function applyIsolating(apply: Apply, entries: OutboxEntry[]): Promise<Isolated> {
  const out: Isolated = { committed: [], deferred: [], failed: [] };
  if (entries.length === 0) return out;
  try {
    const r = await apply(entries.map((e) => e.rec));
    const deferred = new Map(r.deferred.map((d) => [d.index, d.reason]));
    entries.forEach((entry, i) => {
      const reason = deferred.get(i);
      if (reason === undefined) out.committed.push(entry);
      else out.deferred.push({ entry, error: reason });
    });
    return out;
  } catch (e) {
    if (isTransientDbError(e)) throw e;
    if (entries.length === 1) {
      out.failed.push({ entry: entries[0]!, error: describeDbError(e) });
      return out;
    }
    const mid = entries.length >> 1;
    for (const half of [entries.slice(0, mid), entries.slice(mid)]) {
      const r = await applyIsolating(apply, half);
      out.committed.push(...r.committed);
      out.deferred.push(...r.deferred);
      out.failed.push(...r.failed);
    }
    return out;
  }
}
