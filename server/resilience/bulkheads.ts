/**
 * Bulkheads: a cap on concurrent calls plus a bounded queue; beyond both, a call is refused at
 * once with BulkheadRejectedError instead of piling up. One per dependency (a slow Postgres
 * cannot take the memory and sockets Redis calls need) and one per matching pool, created on
 * first use, so one pool's trouble (a hot pool, a stuck script) cannot starve the others.
 * Pool names come from a fixed alphabet and a small set (server/state/keys.ts), so the map stays small.
 */
import { bulkhead, type BulkheadPolicy } from 'cockatiel';
import type { BulkheadConfig } from './config';

export interface BulkheadSnapshot {
  executionSlots: number;
  queueSlots: number;
}

export class PoolBulkheads {
  private readonly byPool = new Map<string, BulkheadPolicy>();

  constructor(
    private readonly cfg: BulkheadConfig,
    private readonly onReject: (pool: string) => void = () => {},
  ) {}

  /** The pool's bulkhead, created on first use. */
  get(pool: string): BulkheadPolicy {
    let b = this.byPool.get(pool);
    if (!b) {
      b = bulkhead(this.cfg.limit, this.cfg.queue);
      b.onReject(() => {
        try {
          this.onReject(pool);
        } catch {
          // A failing observer must not turn a rejection into a different error.
        }
      });
      this.byPool.set(pool, b);
    }
    return b;
  }

  snapshot(): Record<string, BulkheadSnapshot> {
    return Object.fromEntries([...this.byPool].map(([pool, b]) => [pool, { executionSlots: b.executionSlots, queueSlots: b.queueSlots }]));
  }
}
