/**
 * DeferredRecords: the records a drain keeps back because their match is not in Postgres yet
 * (batch.ts). They stay pending in this consumer's list and are applied again after
 * DEFER_FIRST_MS, doubling up to claimIdleMs / 2, instead of being left to a claim claimIdleMs
 * later. Those retries do not count as deliveries; a claim does.
 */
import type { Logger } from '../infra/logger';
import { exponentialDelay } from '../resilience/backoff';
import type { RawEntry } from './outbox-stream';

/** A deferred record is applied again this soon, then ever later. */
const DEFER_FIRST_MS = 100;

export interface Due {
  raw: RawEntry[];
  /** The most times any of these entries has been applied by this consumer. */
  attempt: number;
}

export class DeferredRecords {
  private readonly kept = new Map<string, { pool: string; entry: RawEntry; due: number; attempt: number }>();

  constructor(
    private readonly claimIdleMs: number,
    private readonly log: Logger,
  ) {}

  has(streamId: string): boolean {
    return this.kept.has(streamId);
  }

  /** Keeps the entries of `raw` named in `ids`, applied `attempt` times so far. */
  keep(pool: string, raw: RawEntry[], ids: Set<string>, attempt: number): void {
    if (ids.size === 0) return;
    const inMs = exponentialDelay(attempt, DEFER_FIRST_MS, Math.max(DEFER_FIRST_MS, this.claimIdleMs / 2));
    this.log.debug({ pool, records: ids.size, inMs }, 'audit records deferred: their match is not in Postgres yet');
    for (const entry of raw) if (ids.has(entry[0])) this.kept.set(entry[0], { pool, entry, due: Date.now() + inMs, attempt });
  }

  forget(streamIds: string[]): void {
    for (const id of streamIds) this.kept.delete(id);
  }

  /** Takes out the records that are due, by pool. */
  takeDue(): Map<string, Due> {
    const now = Date.now();
    const due = new Map<string, Due>();
    for (const [id, d] of this.kept) {
      if (d.due > now) continue;
      this.kept.delete(id);
      const g = due.get(d.pool) ?? { raw: [], attempt: 0 };
      g.raw.push(d.entry);
      g.attempt = Math.max(g.attempt, d.attempt);
      due.set(d.pool, g);
    }
    return due;
  }

  /** How long a blocking read may wait: until the next record is due (at most `blockMs`). */
  readBlockMs(blockMs: number): number {
    if (this.kept.size === 0) return blockMs;
    return Math.min(blockMs, Math.max(1, Math.min(...[...this.kept.values()].map((d) => d.due)) - Date.now()));
  }
}
