/**
 * The soak's faults, one every `--fault-every` seconds, in a fixed cycle:
 *   redis-pause       the private redis-server frozen (SIGSTOP) for `pauseSec`, then SIGCONT:
 *                     connections stay open and nothing answers (the Redis breaker's case)
 *   postgres-restart  the private cluster stopped (fast shutdown) and started again after
 *                     `pauseSec`: the audit drain's and the pg pool's reconnect
 *   server-kill       one server process SIGKILLed (slots in turn) and started again on the same
 *                     port after `pauseSec`: its clients reconnect there, its presence goes stale
 *                     on the other process, and its audit spool is replayed
 */
import type { SoakSystem } from './system';

export const FAULT_CYCLE = ['redis-pause', 'postgres-restart', 'server-kill'] as const;
export type FaultKind = (typeof FAULT_CYCLE)[number];

export interface FaultRecord {
  kind: FaultKind;
  /** Seconds since the load began, when the fault started. */
  atSec: number;
  /** How long injecting and undoing it took, ms (the outage itself included). */
  tookMs: number;
  detail: string;
  error?: string;
}

/** The n-th fault of the run (0-based) and, for server kills, which slot. */
export function nthFault(n: number, servers: number): { kind: FaultKind; slot: number } {
  const kind = FAULT_CYCLE[n % FAULT_CYCLE.length]!;
  return { kind, slot: Math.floor(n / FAULT_CYCLE.length) % servers };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function injectFault(sys: SoakSystem, n: number, pauseSec: number, atSec: number): Promise<FaultRecord> {
  const { kind, slot } = nthFault(n, sys.slots.length);
  const t0 = Date.now();
  let detail = '';
  try {
    if (kind === 'redis-pause') {
      detail = `redis SIGSTOP ${pauseSec} s`;
      await sys.redis.kill('SIGSTOP');
      try {
        await sleep(pauseSec * 1000);
      } finally {
        await sys.redis.kill('SIGCONT');
      }
    } else if (kind === 'postgres-restart') {
      detail = `postgres stopped ${pauseSec} s`;
      await sys.postgres.stop();
      await sleep(pauseSec * 1000);
      await sys.postgres.start();
    } else {
      const s = sys.slots[slot]!;
      detail = `server ${slot} (pid ${s.pid}) SIGKILL, restarted after ${pauseSec} s`;
      await sys.kill(s);
      await sleep(pauseSec * 1000);
      await sys.restart(s);
      detail += ` as pid ${s.pid}`;
    }
    return { kind, atSec, tookMs: Date.now() - t0, detail };
  } catch (e) {
    return { kind, atSec, tookMs: Date.now() - t0, detail, error: e instanceof Error ? e.message : String(e) };
  }
}
