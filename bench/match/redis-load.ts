/**
 * Redis CPU per node over the measured window: INFO cpu (used_cpu_user + used_cpu_sys) and
 * commandstats of every master, and of the replicas (which replay every write), read before and
 * after. On a cluster this is where the load went: each pool's slot, and so its CPU, sits on one
 * master.
 */
import { diffCounters, serverCounters, type ServerCounters } from '../lib/redis';
import { printTable } from '../lib/report';
import { round } from '../lib/stats';
import { masterOfPool } from './pools';
import type { BenchRedis } from './redis-target';

export interface NodeReadings {
  masters: ServerCounters[];
  replicas: ServerCounters[];
}

export async function readNodes(target: BenchRedis): Promise<NodeReadings> {
  const [masters, replicas] = await Promise.all([
    Promise.all(target.masters.map((m) => serverCounters(m.redis))),
    Promise.all(target.replicas.map((m) => serverCounters(m.redis))),
  ]);
  return { masters, replicas };
}

export interface MasterLoad {
  master: string;
  pools: string[];
  matches: number;
  cpuMs: number;
  /** Of one core, over the window. */
  cpuPct: number;
}

export interface RedisLoad {
  /** All masters together: CPU and commands (what a single Redis reports). */
  total: ServerCounters;
  perMaster: MasterLoad[];
  /** How many replicas, and their CPU together (they replay every write of their masters). */
  replicas: number;
  replicasCpuMs: number;
}

/**
 * What the window cost each master, with the pools it serves and the matches made in them. One
 * Redis has no slot ranges of its own: it is reported as one master holding every pool.
 */
export function redisLoad(target: BenchRedis, a: NodeReadings, b: NodeReadings, windowSec: number, matchesByPool: Record<string, number>): RedisLoad {
  const diffs = b.masters.map((after, i) => diffCounters(a.masters[i]!, after));
  const pools = Object.keys(matchesByPool);
  const perMaster = target.masters.map((m, i): MasterLoad => {
    const own = target.kind === 'cluster' ? pools.filter((p) => masterOfPool(p, target.ranges) === m.address) : pools;
    const cpuMs = diffs[i]!.cpuSec * 1000;
    return { master: m.address, pools: own, matches: own.reduce((s, p) => s + (matchesByPool[p] ?? 0), 0), cpuMs, cpuPct: round(cpuMs / 10 / windowSec) };
  });
  const commands: ServerCounters['commands'] = {};
  for (const d of diffs) {
    for (const [name, c] of Object.entries(d.commands)) {
      const sum = (commands[name] ??= { calls: 0, usec: 0 });
      sum.calls += c.calls;
      sum.usec += c.usec;
    }
  }
  const replicasCpuMs = b.replicas.reduce((s, after, i) => s + (after.cpuSec - a.replicas[i]!.cpuSec) * 1000, 0);
  return { total: { cpuSec: diffs.reduce((s, d) => s + d.cpuSec, 0), commands }, perMaster, replicas: b.replicas.length, replicasCpuMs };
}

/** Prints the per-master table; returns its rows for the JSON line. */
export function printRedisLoad(load: RedisLoad, windowSec: number): Array<{ master: string; pools: string[]; matchesPerSec: number; cpuPct: number }> {
  const rows = load.perMaster.map((m) => ({ master: m.master, pools: m.pools, matchesPerSec: round(m.matches / windowSec), cpuPct: m.cpuPct }));
  printTable('Redis CPU per master in the window (INFO cpu, user + sys)', [
    ...load.perMaster.map((m, i) => ({
      master: m.master,
      pools: m.pools.join(' '),
      'matches/s': rows[i]!.matchesPerSec,
      'CPU % of a core': m.cpuPct,
      'CPU ms/match': round(m.cpuMs / Math.max(1, m.matches)),
    })),
    ...(load.replicas ? [{ master: `${load.replicas} replicas`, 'CPU % of a core': round(load.replicasCpuMs / 10 / windowSec) }] : []),
  ]);
  return rows;
}
