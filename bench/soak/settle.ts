/**
 * After the load: wait until Redis is back to its baseline (keys apart from match records, no
 * subscriber or pattern more than before, the outbox empty) or `maxSec` has passed, taking a
 * reading every `everySec`. Resolves with how long it took (null: it never got there).
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../../server/state/keys';
import { checkGrowth, type StateSnapshot } from './growth';
import { auditFigures, keyCensus, redisFigures } from './sample';

const POLL_MS = 5000;

export async function settle(o: {
  baseline: StateSnapshot;
  redis: Redis;
  keys: Keys;
  maxSec: number;
  everySec: number;
  record: () => Promise<void>;
}): Promise<{ afterSec: number | null }> {
  const t0 = Date.now();
  let nextRecord = t0 + o.everySec * 1000;
  for (;;) {
    const census = await keyCensus(o.redis, o.keys.root).catch(() => null);
    const r = await redisFigures(o.redis).catch(() => null);
    const audit = await auditFigures(o.redis, o.keys).catch(() => null);
    if (census && r && audit) {
      const now: StateSnapshot = {
        keys: r.keys,
        ...census,
        subscribers: r.subscribers,
        channels: r.channels,
        patterns: r.patterns,
        outboxBacklog: audit.backlog,
        processes: [],
      };
      const verdict = checkGrowth({ ...o.baseline, processes: [] }, now);
      if (verdict.checks.every((c) => c.pass)) return { afterSec: Math.round((Date.now() - t0) / 1000) };
    }
    if (Date.now() - t0 > o.maxSec * 1000) return { afterSec: null };
    if (Date.now() >= nextRecord) {
      await o.record();
      nextRecord += o.everySec * 1000;
    }
    await new Promise((res) => setTimeout(res, POLL_MS));
  }
}
