/**
 * Redis Cluster faults, under load: the server runs on a private cluster (3 masters + 3 replicas,
 * tests/support/redis-cluster.ts) and the load's pool (`global`, one hash tag, so one slot) is
 * hit where it lives.
 *
 *  - Master killed: the master serving the pool's slot is SIGKILLed; the cluster promotes its
 *    replica after `cluster-node-timeout` (NODE_TIMEOUT_MS, 1 s in the helper). Calls touching
 *    that shard fail (or wait) until the client sees the new master; nothing else may break.
 *    Replication is asynchronous, so a write acknowledged by the dead master in its last moment
 *    and not yet on the replica would be gone: the accounting counts that as lost, as it should.
 *  - Slot migrated: the pool's slot is moved to another master the way `redis-cli --cluster
 *    reshard` does, all of its keys in one MIGRATE (the supported way; see the header of
 *    tests/cluster/migration.test.ts for what moving a few keys at a time does). Calls meet ASK
 *    while the slot is on the move and MOVED after.
 *
 * Nothing comes back in either case (the cluster heals itself), so the recovery clock starts at
 * the fault. The fault "ends" once the load has had calls acknowledged on the new topology.
 */
import { DEFAULT_POOL } from '../../../server/state/keys';
import type { Load } from '../lib/load';
import { until } from '../lib/recovery';
import { runChaos } from '../lib/run';
import { startOnCluster } from '../lib/systems';
import type { ScenarioOptions, ScenarioResult } from '../lib/types';

// The heal waits for this many mutations acknowledged after the fault's end: the load works on
// the new master again, not only the probe (about one per user at the default 12 users).
const ACKS_AFTER = 12;
// A cluster left unhealthy, or load that never gets through, is recorded rather than waited on forever.
const HEAL_WAIT_MS = 20_000;

/** A note of the failed calls started in [from, to), by error code: what users met while the cluster changed. */
function failedCalls(load: Load, from: number, to: number): string {
  const codes = new Map<string, number>();
  for (const c of load.calls) if (!c.ok && c.at >= from && c.at < to) codes.set(c.code!, (codes.get(c.code!) ?? 0) + 1);
  return `failed calls during the fault: ${[...codes].map(([code, n]) => `${code} x${n}`).join(', ') || 'none'}`;
}

/** Waits until `n` mutations that started at or after `since` were acknowledged; false if that never came. */
function acknowledgedSince(load: Load, since: number, n: number): Promise<boolean> {
  return until(() => load.calls.filter((c) => c.ok && c.op !== 'me' && c.at >= since).length >= n, HEAL_WAIT_MS);
}

export async function clusterMasterKilled(o: ScenarioOptions): Promise<ScenarioResult> {
  await using sys = await startOnCluster();
  const { cluster } = sys.deps;
  const slotKey = sys.inspector.keys.poolPrefix(DEFAULT_POOL);
  let faultAt = 0;
  let killedAt = 0;
  let promotedAt = 0;
  let healedAt = 0;
  return await runChaos(
    sys,
    {
      failure: 'cluster master killed (replica promoted)',
      trips: [],
      clock: 'fault',
      outageMs: 0,
      async inject(ctx) {
        faultAt = Date.now();
        const master = await cluster.masterOf(slotKey);
        ctx.stats.undrainedAtCrash = await sys.inspector.backlog();
        await master.kill('SIGKILL');
        killedAt = Date.now();
        ctx.stats.killedPort = master.port;
      },
      async heal(ctx) {
        await cluster.waitHealthy(HEAL_WAIT_MS);
        promotedAt = Date.now();
        ctx.stats.promotedMs = promotedAt - killedAt;
        ctx.stats.promotedPort = (await cluster.masterOf(slotKey)).port;
        if (!(await acknowledgedSince(ctx.load, promotedAt, ACKS_AFTER))) ctx.notes.push(`fewer than ${ACKS_AFTER} calls acknowledged after the promotion`);
        healedAt = Date.now();
      },
      // Read once every call has ended (a call in flight is recorded when it ends).
      async finish(ctx) {
        // Calls that failed once every node already agreed on the new master: the time the app's
        // own cluster client takes to see the promotion (its slot map still names the dead node).
        ctx.stats.failedAfterPromotion = ctx.load.window(promotedAt, healedAt).unavailable;
        ctx.notes.push(failedCalls(ctx.load, faultAt, healedAt)); // from before the kill: calls in flight at it count
      },
    },
    o,
  );
}

export async function clusterSlotMigrated(o: ScenarioOptions): Promise<ScenarioResult> {
  await using sys = await startOnCluster();
  const { cluster } = sys.deps;
  const slotKey = sys.inspector.keys.poolPrefix(DEFAULT_POOL);
  let startedAt = 0;
  let movedAt = 0;
  let healedAt = 0;
  return await runChaos(
    sys,
    {
      failure: 'slot migrated under load (MOVED/ASK)',
      trips: [],
      clock: 'fault',
      outageMs: 0,
      async inject(ctx) {
        startedAt = Date.now();
        const moved = await cluster.migrateSlotOf(slotKey);
        movedAt = Date.now();
        Object.assign(ctx.stats, { migrateMs: movedAt - startedAt, movedKeys: moved.keys, fromPort: moved.from, toPort: moved.to });
        if ((await cluster.masterOf(slotKey)).port !== moved.to) ctx.notes.push('the slot is not served by the target master after the migration');
      },
      async heal(ctx) {
        if (!(await acknowledgedSince(ctx.load, movedAt, ACKS_AFTER))) ctx.notes.push(`fewer than ${ACKS_AFTER} calls acknowledged after the migration`);
        healedAt = Date.now();
      },
      async finish(ctx) {
        ctx.notes.push(failedCalls(ctx.load, startedAt, healedAt));
      },
    },
    o,
  );
}
