/** Redis helpers for benchmarks: a unique key root, SCAN+UNLINK cleanup, and server counters. */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A key root no one else uses, e.g. `bench-3fa2c1d0`. */
export function uniquePrefix(name = 'bench'): string {
  return `${name}-${randomBytes(4).toString('hex')}`;
}

/** Removes every key under `<prefix>:` (SCAN, never KEYS); returns how many. */
export async function unlinkPrefix(redis: Redis, prefix: string): Promise<number> {
  let removed = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) removed += await redis.unlink(...keys);
  } while (cursor !== '0');
  return removed;
}

export interface ServerCounters {
  /** Redis process CPU seconds (user + sys). */
  cpuSec: number;
  /** Per command: calls and total microseconds spent inside Redis. */
  commands: Record<string, { calls: number; usec: number }>;
}

/** CPU and command statistics; diff two readings to see what a phase cost Redis. */
export async function serverCounters(redis: Redis): Promise<ServerCounters> {
  const [cpu, stats] = await Promise.all([redis.info('cpu'), redis.info('commandstats')]);
  const num = (re: RegExp) => Number(re.exec(cpu)?.[1] ?? 0);
  const commands: ServerCounters['commands'] = {};
  for (const m of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) commands[m[1]!] = { calls: Number(m[2]), usec: Number(m[3]) };
  return { cpuSec: num(/used_cpu_user:([\d.]+)/) + num(/used_cpu_sys:([\d.]+)/), commands };
}

export function diffCounters(a: ServerCounters, b: ServerCounters): ServerCounters {
  const commands: ServerCounters['commands'] = {};
  for (const [name, v] of Object.entries(b.commands)) {
    const before = a.commands[name] ?? { calls: 0, usec: 0 };
    if (v.calls > before.calls) commands[name] = { calls: v.calls - before.calls, usec: v.usec - before.usec };
  }
  return { cpuSec: b.cpuSec - a.cpuSec, commands };
}
