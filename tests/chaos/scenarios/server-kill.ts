/**
 * A server process SIGKILLed under load. Two servers (OS processes) share Redis and Postgres;
 * users are spread over both. One is killed; its users reconnect to the survivor (as a load
 * balancer would send them), resuming their event streams from the last id they saw. The
 * survivor's drain takes over the dead consumer's pending outbox entries (OUTBOX_CLAIM_IDLE_MS),
 * and the recovery clock starts at the kill.
 */
import { killTree } from '../lib/process-tree';
import { runChaos } from '../lib/run';
import { startProcesses } from '../lib/systems';
import type { ScenarioOptions, ScenarioResult } from '../lib/types';

export async function serverKilled(o: ScenarioOptions): Promise<ScenarioResult> {
  await using sys = await startProcesses(2);
  const [victim, survivor] = sys.servers as [(typeof sys.servers)[0], (typeof sys.servers)[0]];
  return await runChaos(
    sys,
    {
      failure: 'Server process SIGKILL',
      trips: [],
      clock: 'fault',
      outageMs: 0,
      async inject(ctx) {
        // The server itself, not only the tsx wrapper whose pid startServerProcess holds.
        ctx.stats.killedProcesses = (await killTree(victim.child.pid!, 'SIGKILL')).length;
        await victim.exited;
        // What the dead process's drain had read but not acknowledged: the survivor must claim it.
        ctx.stats.pendingOfKilled = await sys.inspector.pendingOf(`c-${victim.child.pid}-`);
      },
      async heal(ctx) {
        const moving = ctx.load.users.filter((u) => u.url === victim.url);
        ctx.stats.moved = moving.length;
        await Promise.all(moving.map((u) => u.moveTo(survivor.url)));
      },
    },
    o,
  );
}
